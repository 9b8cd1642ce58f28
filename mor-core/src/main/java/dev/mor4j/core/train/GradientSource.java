package dev.mor4j.core.train;

/**
 * Runs the forward and backward pass of one micro-batch. The trainer calls it
 * {@code gradient_accumulation_steps} times per optimizer step, with the same {@code step} and
 * {@code microBatch = 0, 1, ...}, and averages the gradients.
 *
 * <p>Anything random (dropout masks, the choice of examples) should be a function of {@code step} and
 * {@code microBatch} (see {@link Seeds}, {@link DropoutMasks}), or of state saved with the checkpoint, so that
 * a resumed run repeats an uninterrupted one exactly.
 */
@FunctionalInterface
public interface GradientSource {

    /**
     * @param step       the 0-based optimizer step
     * @param microBatch the micro-batch within the step, {@code 0 ≤ microBatch < gradient_accumulation_steps}
     * @return the loss, token count and gradient of every trainable weight
     */
    StepResult compute(long step, int microBatch);
}
