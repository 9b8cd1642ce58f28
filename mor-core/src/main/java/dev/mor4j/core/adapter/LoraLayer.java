package dev.mor4j.core.adapter;

import dev.mor4j.core.nn.FrozenLinear;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * LoRA (Hu et al., 2021) as PEFT implements it: {@code y = W x + s·B A dropout(x)}, with {@code s = α/r}
 * ({@code α/√r} with rsLoRA).
 *
 * <p>Weights: {@code <prefix>.lora_A.weight [r, d_in]}, initialised kaiming-uniform with a = √5
 * ({@code U(−1/√d_in, 1/√d_in)}), and {@code <prefix>.lora_B.weight [d_out, r]}, initialised to zero, so a
 * fresh adapter leaves the base output unchanged.
 */
public final class LoraLayer extends BaseAdapterLayer {

    public static final String LORA_A = "lora_A.weight";
    public static final String LORA_B = "lora_B.weight";

    public LoraLayer(AdapterConfig config, String prefix, FrozenLinear base) {
        super(config, prefix, base);
    }

    @Override
    public LinkedHashMap<String, long[]> weightShapes() {
        return loraPairShapes();
    }

    @Override
    public Map<String, INDArray> initialWeights(Random rng) {
        return loraPairInit(rng);
    }

    @Override
    public SDVariable forward(AdapterContext ctx, SDVariable x) {
        SameDiff sd = ctx.sd();
        SDVariable a = ctx.weight(key(LORA_A), r, dIn); // [r, d_in]
        SDVariable b = ctx.weight(key(LORA_B), dOut, r); // [d_out, r]
        SDVariable xd = dropout(ctx, x); // [tokens, d_in]
        SDVariable down = sd.mmul(xd, a, false, true, false).mul(scaling); // [tokens, r]
        SDVariable delta = sd.mmul(down, b, false, true, false); // [tokens, d_out]
        return base.forward(sd, x).add(delta); // [tokens, d_out]
    }

    /** {@code W + s·B·A}, {@code [d_out, d_in]}. */
    @Override
    public INDArray mergedWeight(Map<String, INDArray> weights) {
        INDArray a = require(weights, key(LORA_A), r, dIn); // [r, d_in]
        INDArray b = require(weights, key(LORA_B), dOut, r); // [d_out, r]
        return base.weight().add(b.mmul(a).muli(scaling)); // [d_out, d_in]
    }
}
