package dev.mor4j.core.adapter;

import dev.mor4j.core.nn.FrozenLinear;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * DoRA (Liu et al., 2024), weight-decomposed LoRA, with PEFT's semantics ({@code use_dora: true}).
 *
 * <p>With {@code V = W + s·B·A} and {@code n = ‖V‖} taken per output row, {@code [d_out]}:
 * <pre>
 *   scale = m / n                                             [d_out]
 *   y     = W x + (scale − 1) ⊙ W·dropout(x) + scale ⊙ s·B A dropout(x)
 * </pre>
 * which without dropout is {@code y = (m / n) ⊙ (W x + s·B A x)}. As in PEFT, {@code n} is detached: it is
 * recomputed from the current A and B in every forward pass but treated as a constant for gradients (it goes
 * through SameDiff's {@code stop_gradient}, whose gradient is zero). As in PEFT, when dropout is active the
 * {@code (scale − 1)} term uses the base layer applied to the dropped-out input.
 *
 * <p>Weights: {@code lora_A.weight [r, d_in]} and {@code lora_B.weight [d_out, r]} as in {@link LoraLayer},
 * plus {@code lora_magnitude_vector [d_out]}, initialised to the row norms of {@code W + s·B·A} (of W, as B
 * starts at zero). Merging gives {@code W' = diag(m / n)·V}.
 */
public final class DoraLayer extends BaseAdapterLayer {

    public static final String MAGNITUDE = "lora_magnitude_vector";

    public DoraLayer(AdapterConfig config, String prefix, FrozenLinear base) {
        super(config, prefix, base);
    }

    @Override
    public LinkedHashMap<String, long[]> weightShapes() {
        LinkedHashMap<String, long[]> shapes = loraPairShapes();
        shapes.put(key(MAGNITUDE), new long[] {dOut});
        return shapes;
    }

    @Override
    public Map<String, INDArray> initialWeights(Random rng) {
        Map<String, INDArray> w = loraPairInit(rng);
        INDArray a = w.get(key(LoraLayer.LORA_A)); // [r, d_in]
        INDArray b = w.get(key(LoraLayer.LORA_B)); // [d_out, r]
        w.put(key(MAGNITUDE), rowNorms(adaptedWeight(a, b))); // [d_out]
        return w;
    }

    @Override
    public SDVariable forward(AdapterContext ctx, SDVariable x) {
        SameDiff sd = ctx.sd();
        SDVariable a = ctx.weight(key(LoraLayer.LORA_A), r, dIn); // [r, d_in]
        SDVariable b = ctx.weight(key(LoraLayer.LORA_B), dOut, r); // [d_out, r]
        SDVariable m = ctx.weight(key(MAGNITUDE), dOut).reshape(1, dOut); // [1, d_out]

        // V transposed: Wᵀ + s·Aᵀ Bᵀ, and its column norms (the row norms of V), detached.
        SDVariable deltaT = sd.mmul(a, b, true, true, false).mul(scaling); // [d_in, d_out]
        SDVariable vT = base.weightConstant(sd).add(deltaT); // [d_in, d_out]
        SDVariable norm = vT.norm2(true, 0); // [1, d_out]
        SDVariable detachedNorm = new StopGradient(sd, norm).outputVariable(); // [1, d_out]
        SDVariable scale = m.div(detachedNorm); // [1, d_out]

        SDVariable xd = dropout(ctx, x); // [tokens, d_in]
        SDVariable baseOut = base.forward(sd, x); // [tokens, d_out]
        SDVariable baseOnDropped = xd == x ? baseOut : base.forward(sd, xd); // [tokens, d_out]
        SDVariable down = sd.mmul(xd, a, false, true, false).mul(scaling); // [tokens, r]
        SDVariable lora = sd.mmul(down, b, false, true, false); // [tokens, d_out]
        SDVariable dora = baseOnDropped.mul(scale.sub(1.0)).add(lora.mul(scale)); // [tokens, d_out]
        return baseOut.add(dora); // [tokens, d_out]
    }

    /** {@code diag(m / ‖W + s·B·A‖_row)·(W + s·B·A)}, {@code [d_out, d_in]}. */
    @Override
    public INDArray mergedWeight(Map<String, INDArray> weights) {
        INDArray a = require(weights, key(LoraLayer.LORA_A), r, dIn); // [r, d_in]
        INDArray b = require(weights, key(LoraLayer.LORA_B), dOut, r); // [d_out, r]
        INDArray m = require(weights, key(MAGNITUDE), dOut); // [d_out]
        INDArray v = adaptedWeight(a, b); // [d_out, d_in]
        INDArray rowScale = m.div(rowNorms(v)).reshape(dOut, 1); // [d_out, 1]
        return v.muliColumnVector(rowScale); // [d_out, d_in]
    }

    /** {@code W + s·B·A}, {@code [d_out, d_in]}. */
    private INDArray adaptedWeight(INDArray a, INDArray b) {
        return base.weight().add(b.mmul(a).muli(scaling));
    }

    /** The Euclidean norm of each row of {@code w [d_out, d_in]}: {@code [d_out]}. */
    static INDArray rowNorms(INDArray w) {
        return Transforms.sqrt(w.mul(w).sum(1), false);
    }
}
