package dev.mor4j.core.adapter;

import dev.mor4j.core.nn.FrozenLinear;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * MoE-LoRA: N independent LoRA experts mixed per token by a {@link Router}:
 * <pre>
 *   y = W x + s·Σ_i g_i(x)·B_i A_i dropout(x)
 * </pre>
 * with {@code A_i [r, d_in]}, {@code B_i [d_out, r]}, {@code g(x) [N]} from the router (which sees x before
 * dropout) and {@code s = α/r}.
 *
 * <p>Keys (PEFT style, the expert index as a module-list index): {@code <prefix>.lora_A.<i>.weight},
 * {@code <prefix>.lora_B.<i>.weight} for {@code i = 0..N−1}, and {@code <prefix>.moe_router.weight [N, d_in]}
 * (absent with the {@code mean} router). Initialisation as in PEFT's LoRA: each {@code A_i} kaiming-uniform
 * (a = √5), each {@code B_i} zero, the router kaiming-uniform like {@code nn.Linear}.
 *
 * <p>The experts are evaluated together: the A's stacked into {@code [N·r, d_in]} give all experts' inputs in
 * one product {@code [tokens, N·r]}, each block of r columns is scaled by its gate, and one product with the
 * B's side by side {@code [d_out, N·r]} sums the experts.
 */
public final class MoeLoraLayer extends BaseAdapterLayer {

    public static final String ROUTER = "moe_router.weight";

    private final int experts;
    private final Router router;

    public MoeLoraLayer(AdapterConfig config, String prefix, FrozenLinear base) {
        super(config, prefix, base);
        this.experts = config.experts();
        this.router = Router.of(config, key(ROUTER), dIn);
    }

    /** Key suffix of expert {@code i}'s A, {@code lora_A.<i>.weight}. */
    public static String loraA(int i) {
        return "lora_A." + i + ".weight";
    }

    /** Key suffix of expert {@code i}'s B, {@code lora_B.<i>.weight}. */
    public static String loraB(int i) {
        return "lora_B." + i + ".weight";
    }

    public Router router() {
        return router;
    }

    @Override
    public LinkedHashMap<String, long[]> weightShapes() {
        LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
        for (int i = 0; i < experts; i++) {
            shapes.put(key(loraA(i)), new long[] {r, dIn});
            shapes.put(key(loraB(i)), new long[] {dOut, r});
        }
        router.addWeightShapes(shapes);
        return shapes;
    }

    @Override
    public Map<String, INDArray> initialWeights(Random rng) {
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (int i = 0; i < experts; i++) {
            w.put(key(loraA(i)), WeightInit.kaimingUniform(rng, dataType(), r, dIn));
            w.put(key(loraB(i)), WeightInit.zeros(dataType(), dOut, r));
        }
        router.addInitialWeights(w, rng, dataType());
        return w;
    }

    @Override
    public SDVariable forward(AdapterContext ctx, SDVariable x) {
        SameDiff sd = ctx.sd();
        SDVariable[] as = new SDVariable[experts];
        SDVariable[] bs = new SDVariable[experts];
        for (int i = 0; i < experts; i++) {
            as[i] = ctx.weight(key(loraA(i)), r, dIn); // [r, d_in]
            bs[i] = ctx.weight(key(loraB(i)), dOut, r); // [d_out, r]
        }
        SDVariable aAll = experts == 1 ? as[0] : sd.concat(0, as); // [N·r, d_in]
        SDVariable bAll = experts == 1 ? bs[0] : sd.concat(1, bs); // [d_out, N·r]

        SDVariable g = router.gates(ctx, prefix, x); // [tokens, N]
        SDVariable xd = dropout(ctx, x); // [tokens, d_in]
        SDVariable down = sd.mmul(xd, aAll, false, true, false); // [tokens, N·r]
        SDVariable gs = g.mul(scaling).reshape(-1, experts, 1); // [tokens, N, 1]
        SDVariable mixed = down.reshape(-1, experts, r).mul(gs).reshape(-1, (long) experts * r); // [tokens, N·r]
        SDVariable delta = sd.mmul(mixed, bAll, false, true, false); // [tokens, d_out]
        return base.forward(sd, x).add(delta); // [tokens, d_out]
    }

    /** @throws dev.mor4j.core.MorException always: the mixture depends on the input */
    @Override
    public INDArray mergedWeight(Map<String, INDArray> weights) {
        throw notMergeable("MoE-LoRA");
    }
}
