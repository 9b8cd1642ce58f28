package dev.mor4j.core.train;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one micro-batch's forward and backward pass produced.
 *
 * @param loss      the loss as the graph computed it for this micro-batch
 * @param tokens    tokens the micro-batch holds (for throughput; e.g. the tokens that count in the loss)
 * @param gradients gradient of the loss by trainable name, each shaped like its weight; the trainer copies
 *                  them before the next micro-batch runs
 */
public record StepResult(double loss, long tokens, Map<String, INDArray> gradients) {
}
