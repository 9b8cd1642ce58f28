package dev.mor4j.core.adapter;

import dev.mor4j.core.MorException;
import dev.mor4j.core.nn.FrozenLinear;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * MoR, Mixture of Ranks (Tang et al., 2024, arXiv 2410.13408): one shared LoRA pair turned into N experts by
 * per-expert scaling vectors, mixed per token by a {@link Router}:
 * <pre>
 *   y = W x + s · Σ_i g_i(x) · Ω_B[i] ⊙ B (Ω_A[i] ⊙ A · dropout(x))
 * </pre>
 * <table>
 *   <caption>Weights, under {@code <prefix>.<key>}</caption>
 *   <tr><th>symbol</th><th>key</th><th>shape</th><th>initialisation</th></tr>
 *   <tr><td>A</td><td>{@code lora_A.weight}</td><td>{@code [r, d_in]}</td><td>kaiming-uniform, a = √5</td></tr>
 *   <tr><td>B</td><td>{@code lora_B.weight}</td><td>{@code [d_out, r]}</td><td>zero</td></tr>
 *   <tr><td>Ω_A</td><td>{@code mor_omega_A}</td><td>{@code [N, r]}</td><td>{@code omega_init}</td></tr>
 *   <tr><td>Ω_B</td><td>{@code mor_omega_B}</td><td>{@code [N, d_out]}</td><td>{@code omega_init}</td></tr>
 *   <tr><td>W_r</td><td>{@code mor_router.weight}</td><td>{@code [N, d_in]}</td>
 *       <td>kaiming-uniform, a = √5 (absent with the {@code mean} router)</td></tr>
 * </table>
 * {@code s = α/r}; {@code g(x) [N]} comes from the router, which sees x before dropout (when no dropout
 * applies, A and the router's {@code W_r} multiply x in one product, {@code x·[A; W_r]ᵀ [tokens, r+N]});
 * {@code omega_init} is {@code ones} (default: every expert starts as the shared LoRA) or {@code random}
 * ({@code N(1, 0.02²)}).
 * A layer with these weights has {@code r·d_in + d_out·r + N·r + N·d_out + N·d_in} parameters, the paper's
 * {@code 2·d·r + N·(2d + r)} for a square {@code d×d} layer.
 *
 * <p>Three {@link MorForm}s compute the sum over experts ({@link ExpertSum}); they give the same output and
 * gradients to float rounding and differ in cost:
 * <ul>
 *   <li>{@link MorForm#EXPANDED} (default): MoR as one LoRA of rank {@code N·r}; nothing of size
 *       {@code tokens × N × d_out} is formed.</li>
 *   <li>{@link MorForm#STACKED} (the paper's eq. 15): all experts' outputs as one {@code [tokens, N, d_out]}
 *       tensor, weighted by g and summed over the experts.</li>
 *   <li>{@link MorForm#LOOP}: N separate expert terms {@code s·g_i ⊙ E_i} {@code [tokens, d_out]}, added up.</li>
 * </ul>
 */
public final class MixtureOfRanks extends BaseAdapterLayer {

    public static final String LORA_A = LoraLayer.LORA_A;
    public static final String LORA_B = LoraLayer.LORA_B;
    public static final String OMEGA_A = "mor_omega_A";
    public static final String OMEGA_B = "mor_omega_B";
    public static final String ROUTER = "mor_router.weight";
    /** Standard deviation of {@code omega_init: random}, around a mean of 1. */
    public static final double OMEGA_RANDOM_STD = 0.02;

    private final int experts;
    private final MorForm form;
    private final Router router;
    private final boolean randomOmega;

    public MixtureOfRanks(AdapterConfig config, String prefix, FrozenLinear base) {
        this(config, prefix, base, MorForm.EXPANDED);
    }

    public MixtureOfRanks(AdapterConfig config, String prefix, FrozenLinear base, MorForm form) {
        super(config, prefix, base);
        this.experts = config.experts();
        this.form = form;
        this.router = Router.of(config, key(ROUTER), dIn);
        String init = config.omegaInit() == null ? "ones" : config.omegaInit().toLowerCase(Locale.ROOT);
        if (!init.equals("ones") && !init.equals("random")) {
            throw new MorException(prefix + ": omega_init must be 'ones' or 'random', got '" + config.omegaInit() + "'");
        }
        this.randomOmega = init.equals("random");
    }

    public MorForm form() {
        return form;
    }

    public Router router() {
        return router;
    }

    @Override
    public LinkedHashMap<String, long[]> weightShapes() {
        LinkedHashMap<String, long[]> shapes = loraPairShapes();
        shapes.put(key(OMEGA_A), new long[] {experts, r});
        shapes.put(key(OMEGA_B), new long[] {experts, dOut});
        router.addWeightShapes(shapes);
        return shapes;
    }

    @Override
    public Map<String, INDArray> initialWeights(Random rng) {
        Map<String, INDArray> w = loraPairInit(rng);
        w.put(key(OMEGA_A), omega(rng, experts, r));
        w.put(key(OMEGA_B), omega(rng, experts, dOut));
        router.addInitialWeights(w, rng, dataType());
        return w;
    }

    private INDArray omega(Random rng, long rows, long cols) {
        return randomOmega ? WeightInit.normal(rng, dataType(), 1.0, OMEGA_RANDOM_STD, rows, cols)
                : WeightInit.ones(dataType(), rows, cols);
    }

    @Override
    public SDVariable forward(AdapterContext ctx, SDVariable x) {
        SameDiff sd = ctx.sd();
        SDVariable a = ctx.weight(key(LORA_A), r, dIn); // [r, d_in]
        SDVariable b = ctx.weight(key(LORA_B), dOut, r); // [d_out, r]
        SDVariable omegaA = ctx.weight(key(OMEGA_A), experts, r); // [N, r]
        SDVariable omegaB = ctx.weight(key(OMEGA_B), experts, dOut); // [N, d_out]
        SDVariable dropped = dropout(ctx, x); // [tokens, d_in]
        SDVariable g; // [tokens, N]
        SDVariable h; // [tokens, r]
        if (dropped == x && router.hasWeight()) {
            // Without dropout A and the router read the same input: one product [tokens, d_in]·[d_in, r+N]
            // reads x once, and its backward is one product for dx and one for both weights' gradients.
            SDVariable down = sd.concat(0, a, router.weight(ctx)); // [r+N, d_in]
            SDVariable hl = sd.mmul(x, down, false, true, false); // [tokens, r+N]
            h = hl.get(SDIndex.all(), SDIndex.interval(0, r));
            g = router.gatesFromLogits(ctx, prefix, hl.get(SDIndex.all(), SDIndex.interval(r, r + experts)));
        } else {
            g = router.gates(ctx, prefix, x);
            h = sd.mmul(dropped, a, false, true, false);
        }
        SDVariable delta = expertSum().delta(form, sd, h, g, b, omegaA, omegaB); // [tokens, d_out]
        return base.forward(sd, x).add(delta); // [tokens, d_out]
    }

    /** The sum over this layer's experts ({@link ExpertSum}). */
    private ExpertSum expertSum() {
        return new ExpertSum(experts, r, dOut, scaling, dataType());
    }

    /** @throws MorException always: the router mixes the experts differently for every token */
    @Override
    public INDArray mergedWeight(Map<String, INDArray> weights) {
        throw notMergeable("MoR");
    }
}
