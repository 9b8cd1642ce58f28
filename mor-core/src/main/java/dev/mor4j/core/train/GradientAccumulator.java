package dev.mor4j.core.train;

import dev.mor4j.core.MorException;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Sums the gradients of the micro-batches of one optimizer step and gives their mean.
 *
 * <p>The gradient of a step is the <em>average</em> of the micro-batch gradients, and its loss the average of
 * their losses: with {@code n} micro-batches whose losses are means over equally many tokens, this equals the
 * gradient of the mean loss over the whole batch. Weighting micro-batches of different sizes is the caller's
 * business (e.g. scale each micro-batch's loss by {@code n · tokens_i / tokens_total}).
 */
public final class GradientAccumulator {

    private final Map<String, INDArray> params;
    private final Map<String, INDArray> buffers;
    private final Map<String, INDArray> sums = new LinkedHashMap<>();
    private int count;
    private double lossSum;
    private long tokens;
    private String nonFiniteLoss;
    private boolean averaged;

    /** @param params the trainable weights by name, giving the expected gradient names and shapes */
    public GradientAccumulator(Map<String, INDArray> params) {
        this(params, new HashMap<>());
    }

    /**
     * As {@link #GradientAccumulator(Map)}, summing into the arrays of {@code buffers} (by weight name) where it
     * holds them, and adding the arrays it allocates to it: a trainer that passes the same map to the
     * accumulator of every step allocates the sums once (the previous step's gradients are overwritten).
     */
    public GradientAccumulator(Map<String, INDArray> params, Map<String, INDArray> buffers) {
        this.params = params;
        this.buffers = buffers;
    }

    /** Adds one micro-batch's result; its gradients are copied. */
    public void add(StepResult r) {
        if (averaged) {
            throw new IllegalStateException("meanGradients() was called: start a new accumulator for the next step");
        }
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray g = r.gradients().get(e.getKey());
            if (g == null) {
                throw new MorException("the gradient source gave no gradient for trainable '" + e.getKey() + "'");
            }
            if (!Arrays.equals(g.shape(), e.getValue().shape())) {
                throw new MorException("gradient of '" + e.getKey() + "' has shape " + Arrays.toString(g.shape())
                        + "; expected the weight's shape " + Arrays.toString(e.getValue().shape()));
            }
            INDArray sum = sums.get(e.getKey());
            if (sum == null) {
                INDArray buffer = buffers.get(e.getKey());
                if (buffer == null || buffer.dataType() != DataType.FLOAT || !Arrays.equals(buffer.shape(), g.shape())) {
                    buffer = g.castTo(DataType.FLOAT).dup('c');
                    buffers.put(e.getKey(), buffer);
                } else {
                    buffer.assign(g);
                }
                sums.put(e.getKey(), buffer);
            } else {
                sum.addi(g);
            }
        }
        if (!Double.isFinite(r.loss()) && nonFiniteLoss == null) {
            nonFiniteLoss = "loss of micro-batch " + count + " is " + r.loss();
        }
        lossSum += r.loss();
        tokens += r.tokens();
        count++;
    }

    /** Micro-batches added. */
    public int count() {
        return count;
    }

    /** The mean of the micro-batch losses. */
    public double meanLoss() {
        return lossSum / count;
    }

    public long tokens() {
        return tokens;
    }

    /** Which loss was not finite, or null. */
    public String nonFiniteLoss() {
        return nonFiniteLoss;
    }

    /**
     * Divides the sums by the number of micro-batches (once) and returns them: the step's gradients, owned by
     * this accumulator and free to be modified (e.g. clipped).
     */
    public Map<String, INDArray> meanGradients() {
        if (count == 0) {
            throw new IllegalStateException("no micro-batch added");
        }
        if (!averaged && count > 1) {
            for (INDArray s : sums.values()) {
                s.divi(count);
            }
        }
        averaged = true;
        return Collections.unmodifiableMap(sums);
    }
}
