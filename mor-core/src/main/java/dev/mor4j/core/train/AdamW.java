package dev.mor4j.core.train;

import dev.mor4j.core.MorException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The AdamW optimizer with the semantics of PyTorch's {@code torch.optim.AdamW} ({@code amsgrad=False},
 * {@code maximize=False}), updating FLOAT weights in place. For each weight {@code p} with gradient {@code g}
 * at step {@code t} (1-based) and learning rate {@code lr}:
 *
 * <pre>
 *   p  = p · (1 − lr·λ)                       decoupled weight decay
 *   m  = m + (g − m)·(1 − β₁)                 m.lerp_(g, 1 − β₁)
 *   v  = v·β₂ + (1 − β₂)·g·g
 *   p  = p − (lr / (1 − β₁ᵗ)) · m / (sqrt(v) / sqrt(1 − β₂ᵗ) + ε)
 * </pre>
 *
 * <p>Bias corrections and the step size are computed in double, the element-wise work in FLOAT with ND4J
 * array operations. The state ({@code exp_avg} m, {@code exp_avg_sq} v, both FLOAT and shaped like the weight,
 * and the step count) starts at zero.
 */
public final class AdamW {

    private final Map<String, INDArray> params;
    private final Map<String, INDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, INDArray> expAvgSq = new LinkedHashMap<>();
    private final Map<String, INDArray[]> scratch = new LinkedHashMap<>(); // two arrays shaped like each weight
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private long stepCount;

    /**
     * @param params      the weights to update in place, by name; each FLOAT
     * @param beta1       β₁
     * @param beta2       β₂
     * @param eps         ε, added to {@code sqrt(v̂)}
     * @param weightDecay λ, decoupled
     */
    public AdamW(Map<String, INDArray> params, double beta1, double beta2, double eps, double weightDecay) {
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            DataType type = e.getValue().dataType();
            if (type != DataType.FLOAT && type != DataType.DOUBLE) {
                throw new MorException("trainable '" + e.getKey() + "' is " + type + "; expected FLOAT (or DOUBLE)");
            }
            expAvg.put(e.getKey(), Nd4j.zeros(type, e.getValue().shape()));
            expAvgSq.put(e.getKey(), Nd4j.zeros(type, e.getValue().shape()));
            scratch.put(e.getKey(), new INDArray[] {Nd4j.create(type, e.getValue().shape()),
                Nd4j.create(type, e.getValue().shape())});
        }
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** An optimizer with the betas, ε and weight decay of a training config. */
    public static AdamW of(Map<String, INDArray> params, TrainConfig c) {
        return new AdamW(params, c.adamBeta1(), c.adamBeta2(), c.adamEpsilon(), c.weightDecay());
    }

    /**
     * Applies one update with learning rate {@code lr}.
     *
     * @param grads gradient by weight name, one for every weight, shaped like it
     */
    public void step(Map<String, INDArray> grads, double lr) {
        for (String name : params.keySet()) {
            INDArray g = grads.get(name);
            if (g == null) {
                throw new MorException("no gradient for trainable '" + name + "'");
            }
            checkShape("gradient of '" + name + "'", g, params.get(name).shape());
        }
        stepCount++;
        double biasCorrection1 = 1 - Math.pow(beta1, stepCount);
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, stepCount));
        double stepSize = lr / biasCorrection1;
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray p = e.getValue();
            INDArray g = grads.get(e.getKey()).castTo(p.dataType()); // itself when the type matches
            INDArray m = expAvg.get(e.getKey());
            INDArray v = expAvgSq.get(e.getKey());
            INDArray[] tmp = scratch.get(e.getKey()); // the same arrays every step: no allocation per step
            if (weightDecay != 0) {
                p.muli(1 - lr * weightDecay);
            }
            m.addi(tmp[0].assign(g).subi(m).muli(1 - beta1));
            v.muli(beta2).addi(tmp[0].assign(g).muli(1 - beta2).muli(g));
            INDArray denom = Transforms.sqrt(tmp[1].assign(v), false).divi(biasCorrection2Sqrt).addi(eps);
            p.addi(tmp[0].assign(m).muli(-stepSize).divi(denom));
        }
    }

    /** Updates applied so far (PyTorch's {@code state['step']}). */
    public long stepCount() {
        return stepCount;
    }

    /** First-moment estimates by weight name (the live arrays; do not modify). */
    public Map<String, INDArray> expAvg() {
        return Collections.unmodifiableMap(expAvg);
    }

    /** Second-moment estimates by weight name (the live arrays; do not modify). */
    public Map<String, INDArray> expAvgSq() {
        return Collections.unmodifiableMap(expAvgSq);
    }

    /**
     * Replaces the state with saved values, copying them into the existing arrays.
     *
     * @param where    the file the state comes from, for messages
     * @throws MorException naming the weight if a moment is missing or shaped differently from its weight
     */
    public void restore(String where, long stepCount, Map<String, INDArray> expAvg, Map<String, INDArray> expAvgSq) {
        if (stepCount < 0) {
            throw new MorException(where + ": optimizer step count " + stepCount + "; expected ≥ 0");
        }
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            long[] shape = e.getValue().shape();
            for (String kind : new String[] {"exp_avg", "exp_avg_sq"}) {
                INDArray saved = (kind.equals("exp_avg") ? expAvg : expAvgSq).get(e.getKey());
                String key = e.getKey() + "." + kind;
                if (saved == null) {
                    throw new MorException(where + ": key '" + key + "' is missing; expected the optimizer state of"
                            + " every trainable weight");
                }
                checkShape(where + ": key '" + key + "'", saved, shape);
            }
        }
        for (String name : params.keySet()) {
            this.expAvg.get(name).assign(expAvg.get(name));
            this.expAvgSq.get(name).assign(expAvgSq.get(name));
        }
        this.stepCount = stepCount;
    }

    private static void checkShape(String what, INDArray a, long[] shape) {
        if (!Arrays.equals(a.shape(), shape)) {
            throw new MorException(what + " has shape " + Arrays.toString(a.shape()) + "; expected "
                    + Arrays.toString(shape));
        }
    }
}
