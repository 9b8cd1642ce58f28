package dev.mor4j.core.train;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Gathers the {@code n} micro-batches of one optimizer step (their gradients, losses and token counts) and gives
 * their means.
 *
 * <p>The gradient of a step is the <em>average</em> of the micro-batch gradients, {@code ḡ = (Σᵢ gᵢ) / n}, the sum
 * taken pairwise along a fixed tree of micro-batch indices ({@link PairwiseSums}); its loss is the average of their
 * losses, summed left to right in micro-batch order in double. Both are therefore the same bits whether the
 * micro-batches are added here one by one or as partial sums computed elsewhere (workers of a cluster), in any
 * order. With {@code n} micro-batches whose losses are means over equally many tokens this equals the gradient of
 * the mean loss over the whole batch; weighting micro-batches of different sizes is the caller's business (e.g.
 * scale each micro-batch's loss by {@code n · tokens_i / tokens_total}).
 */
public final class GradientAccumulator {

    private final PairwiseSums sums;
    private final double[] losses; // [n]
    private final long[] tokens; // [n]
    private final boolean[] reported; // [n]: loss and tokens given
    private int next;
    private boolean averaged;

    /** @param params the trainable weights by name, giving the expected gradient names and shapes */
    public GradientAccumulator(Map<String, INDArray> params, int microBatches) {
        this(params, microBatches, new ArrayDeque<>());
    }

    /**
     * As {@link #GradientAccumulator(Map, int)}, taking its sum buffers from {@code spare} and returning them there on
     * {@link #release()}: a trainer that passes the same pool to the accumulator of every step allocates the
     * buffers once.
     */
    public GradientAccumulator(Map<String, INDArray> params, int microBatches, Deque<Map<String, INDArray>> spare) {
        this.sums = new PairwiseSums(PairwiseSums.shapesOf(params), microBatches, spare);
        this.losses = new double[microBatches];
        this.tokens = new long[microBatches];
        this.reported = new boolean[microBatches];
    }

    /** n, the micro-batches of the step. */
    public int microBatches() {
        return losses.length;
    }

    /** Adds the next micro-batch (0, 1, … in the order of the calls); its gradients are only read. */
    public void add(StepResult r) {
        add(next, r);
    }

    /** Adds micro-batch {@code microBatch}'s result; its gradients are only read. */
    public void add(int microBatch, StepResult r) {
        checkOpen();
        sums.addMicroBatch(microBatch, r.gradients());
        addLoss(microBatch, r.loss(), r.tokens());
        next = microBatch + 1;
    }

    /** Adds the gradient sum of a block of micro-batches computed elsewhere; its arrays become owned here. */
    public void addSum(PairwiseSums.Block block) {
        checkOpen();
        sums.add(block);
    }

    /** Records micro-batch {@code microBatch}'s loss and token count, when its gradient comes in a block. */
    public void addLoss(int microBatch, double loss, long tokenCount) {
        checkOpen();
        if (reported[microBatch]) {
            throw new IllegalStateException("the loss of micro-batch " + microBatch + " was given twice");
        }
        reported[microBatch] = true;
        losses[microBatch] = loss;
        tokens[microBatch] = tokenCount;
    }

    private void checkOpen() {
        if (averaged) {
            throw new IllegalStateException("meanGradients() was called: start a new accumulator for the next step");
        }
    }

    /** Micro-batches whose gradients were added, singly or in blocks. */
    public int count() {
        return sums.added();
    }

    /** The mean of the micro-batch losses, summed in micro-batch order. */
    public double meanLoss() {
        double sum = 0;
        for (int i = 0; i < losses.length; i++) {
            sum += losses[i];
        }
        return sum / losses.length;
    }

    public long tokens() {
        return Arrays.stream(tokens).sum();
    }

    /** Which loss was not finite (the first in micro-batch order), or null. */
    public String nonFiniteLoss() {
        for (int i = 0; i < losses.length; i++) {
            if (!Double.isFinite(losses[i])) {
                return "loss of micro-batch " + i + " is " + losses[i];
            }
        }
        return null;
    }

    /**
     * Divides the sums by the number of micro-batches (once) and returns them: the step's gradients, owned by
     * this accumulator and free to be modified (e.g. clipped) until {@link #release()}.
     *
     * @throws IllegalStateException if a micro-batch's gradient or loss is missing
     */
    public Map<String, INDArray> meanGradients() {
        for (int i = 0; i < reported.length; i++) {
            if (!reported[i]) {
                throw new IllegalStateException("the loss of micro-batch " + i + " of " + reported.length
                        + " is missing");
            }
        }
        Map<String, INDArray> total = sums.total();
        if (!averaged && losses.length > 1) {
            for (INDArray s : total.values()) {
                s.divi(losses.length);
            }
        }
        averaged = true;
        return Collections.unmodifiableMap(total);
    }

    /** Returns the buffers to the pool; the gradients of {@link #meanGradients()} are invalid afterwards. */
    public void release() {
        sums.release();
    }
}
