package dev.mor4j.spark;

import dev.mor4j.llama.train.MicroBatch;
import java.io.Serializable;

/**
 * One micro-batch of a step as the driver's data built it, shipped with the task that computes it.
 *
 * @param index      the micro-batch's index within the step (decides its dropout masks and its place in the sum)
 * @param microBatch the examples and their padded batch
 */
record MicroBatchTask(int index, MicroBatch microBatch) implements Serializable {

    private static final long serialVersionUID = 1L;
}
