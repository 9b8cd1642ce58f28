package dev.mor4j.core.train;

/**
 * Computes the gradients of all the micro-batches of one optimizer step into the step's accumulator: here, one
 * micro-batch after another ({@link #of(GradientSource)}), or elsewhere (e.g. workers of a cluster, each adding
 * the partial sums of its share with {@link GradientAccumulator#addSum} and the losses with
 * {@link GradientAccumulator#addLoss}). Either way the accumulator's pairwise sums make the step's gradient the
 * same bits.
 */
@FunctionalInterface
public interface StepGradients {

    /**
     * @param step the 0-based optimizer step
     * @param into the step's accumulator; every one of its {@link GradientAccumulator#microBatches()} micro-batches
     *             must be added, with its loss and token count
     */
    void accumulate(long step, GradientAccumulator into);

    /** Runs {@code source} on micro-batches {@code 0 … n-1} of the step, in order, in this thread. */
    static StepGradients of(GradientSource source) {
        return (step, into) -> {
            for (int mb = 0; mb < into.microBatches(); mb++) {
                into.add(mb, source.compute(step, mb));
            }
        };
    }
}
