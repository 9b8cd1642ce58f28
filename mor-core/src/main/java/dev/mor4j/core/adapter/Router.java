package dev.mor4j.core.adapter;

import dev.mor4j.core.MorException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The per-token expert weights {@code g(x)} of a mixture adapter ({@link MixtureOfRanks}, {@link MoeLoraLayer}),
 * {@code [tokens, N]}, each row summing to 1. The router sees the adapter's input before dropout.
 *
 * <ul>
 *   <li>{@link RouterType#SOFTMAX}: {@code g = softmax(x W_rᵀ)} over the experts, with a trainable
 *       {@code W_r [N, d_in]}.</li>
 *   <li>{@link RouterType#MEAN}: {@code g = 1/N} for every token; no weight.</li>
 *   <li>{@link RouterType#BALANCED}: softmax, and when training the Switch-Transformer load-balancing loss
 *       {@code coef·N·Σ_i f_i·P_i} is handed to {@link AdapterContext#addAuxLoss}: {@code f_i} is the fraction
 *       of tokens whose largest weight is expert i (a constant for gradients), {@code P_i} the mean weight of
 *       expert i; both are means over the real tokens of {@link AdapterContext#tokenMask()} when it is set.</li>
 *   <li>{@link RouterType#TOPK}: softmax, then only the k largest weights of each token kept (which ones is a
 *       constant for gradients) and divided by their sum.</li>
 * </ul>
 *
 * <p>Every router records its output with {@link AdapterContext#recordRouterWeights}.
 */
public final class Router {

    /** Load-balancing coefficient used when the config sets none. */
    public static final double DEFAULT_AUX_LOSS_COEF = 0.01;

    private final RouterType type;
    private final String weightKey;
    private final int inFeatures;
    private final int experts;
    private final int topK;
    private final double auxLossCoef;

    /**
     * @param weightKey   full key of {@code W_r [N, d_in]}; unused by {@link RouterType#MEAN}
     * @param topK        k of {@link RouterType#TOPK}, in {@code [1, N]}; ignored by the others
     * @param auxLossCoef coefficient of the {@link RouterType#BALANCED} loss
     */
    public Router(RouterType type, String weightKey, int inFeatures, int experts, int topK, double auxLossCoef) {
        if (experts < 1) {
            throw new MorException(weightKey + ": num_experts must be ≥ 1, got " + experts);
        }
        if (type == RouterType.TOPK && (topK < 1 || topK > experts)) {
            throw new MorException(weightKey + ": top_k must be in [1, num_experts=" + experts + "], got " + topK);
        }
        this.type = type;
        this.weightKey = weightKey;
        this.inFeatures = inFeatures;
        this.experts = experts;
        this.topK = topK;
        this.auxLossCoef = auxLossCoef;
    }

    /** The router a config asks for, with {@code W_r} stored under {@code weightKey}. */
    public static Router of(AdapterConfig cfg, String weightKey, int inFeatures) {
        RouterType type = cfg.routerOrDefault();
        int n = cfg.experts();
        int k = 0;
        if (type == RouterType.TOPK) {
            if (cfg.topK() == null) {
                throw new MorException(weightKey + ": router topk needs top_k in adapter_config.json");
            }
            k = cfg.topK();
        }
        double coef = cfg.routerAuxLossCoef() == null ? DEFAULT_AUX_LOSS_COEF : cfg.routerAuxLossCoef();
        return new Router(type, weightKey, inFeatures, n, k, coef);
    }

    public RouterType type() {
        return type;
    }

    public int experts() {
        return experts;
    }

    /** True when the router has a trainable weight (every type but {@link RouterType#MEAN}). */
    public boolean hasWeight() {
        return type != RouterType.MEAN;
    }

    /** Adds {@code W_r}'s key and shape, if the router has one. */
    void addWeightShapes(LinkedHashMap<String, long[]> shapes) {
        if (hasWeight()) {
            shapes.put(weightKey, new long[] {experts, inFeatures});
        }
    }

    /** Adds a fresh {@code W_r}, initialised like PyTorch's {@code nn.Linear} (kaiming-uniform, a = √5). */
    void addInitialWeights(Map<String, INDArray> out, Random rng, DataType dataType) {
        if (hasWeight()) {
            out.put(weightKey, WeightInit.kaimingUniform(rng, dataType, experts, inFeatures));
        }
    }

    /**
     * Adds the router to the graph.
     *
     * @param x {@code [tokens, d_in]}, the adapter's input before dropout
     * @return {@code [tokens, N]}, rows summing to 1
     */
    public SDVariable gates(AdapterContext ctx, String prefix, SDVariable x) {
        if (type == RouterType.MEAN) {
            SameDiff sd = ctx.sd();
            SDVariable firstColumn = x.get(SDIndex.all(), SDIndex.interval(0, 1)); // [tokens, 1]
            INDArray uniform = Nd4j.valueArrayOf(new long[] {1, experts}, 1.0 / experts, x.dataType()); // [1, N]
            return record(ctx, prefix, sd.zerosLike(firstColumn).add(sd.constant(uniform))); // [tokens, N]
        }
        SDVariable logits = ctx.sd().mmul(x, weight(ctx), false, true, false); // [tokens, N]
        return gatesFromLogits(ctx, prefix, logits);
    }

    /**
     * {@code W_r [N, d_in]} in the graph, for an adapter that computes the logits {@code x W_rᵀ} itself (e.g.
     * in one product with its own down-projection) and passes them to {@link #gatesFromLogits}.
     *
     * @throws MorException for the {@link RouterType#MEAN} router, which has no weight
     */
    public SDVariable weight(AdapterContext ctx) {
        if (!hasWeight()) {
            throw new MorException(weightKey + ": the mean router has no weight");
        }
        return ctx.weight(weightKey, experts, inFeatures); // [N, d_in]
    }

    /**
     * The rest of {@link #gates} for a router with a weight, from its logits.
     *
     * @param logits {@code [tokens, N]} = {@code x W_rᵀ}, x before dropout
     * @return {@code [tokens, N]}, rows summing to 1
     */
    public SDVariable gatesFromLogits(AdapterContext ctx, String prefix, SDVariable logits) {
        SameDiff sd = ctx.sd();
        SDVariable p = sd.nn.softmax(logits, 1); // [tokens, N]
        if (type == RouterType.BALANCED && ctx.training()) {
            ctx.addAuxLoss(sd.identity(freeName(sd, prefix + ".router_aux_loss"), balanceLoss(ctx, p)));
        }
        return record(ctx, prefix, type == RouterType.TOPK ? keepTopK(sd, p) : p);
    }

    /** Names the weights {@code <prefix>.router_weights} and hands them to the context's recorder. */
    private SDVariable record(AdapterContext ctx, String prefix, SDVariable weights /* [tokens, N] */) {
        SDVariable g = ctx.sd().identity(freeName(ctx.sd(), prefix + ".router_weights"), weights); // [tokens, N]
        ctx.recordRouterWeights(prefix, g);
        return g;
    }

    /** {@code coef·N·Σ_i f_i·P_i} over the real tokens. */
    private SDVariable balanceLoss(AdapterContext ctx, SDVariable p /* [tokens, N] */) {
        SameDiff sd = ctx.sd();
        DataType dt = p.dataType();
        // argmax yields integers, so no gradient reaches p through f.
        SDVariable top1 = sd.oneHot(sd.argmax(p, 1), experts, 1, 1.0, 0.0, dt); // [tokens, N]
        SDVariable f; // [N]
        SDVariable meanP; // [N]
        SDVariable mask = ctx.tokenMask(); // [tokens, 1] or null
        if (mask == null) {
            f = top1.mean(0);
            meanP = p.mean(0);
        } else {
            SDVariable m = mask.dataType() == dt ? mask : mask.castTo(dt); // [tokens, 1]
            SDVariable count = sd.math.max(m.sum(), sd.constant(Nd4j.scalar(dt, 1.0))); // scalar, ≥ 1
            f = top1.mul(m).sum(0).div(count);
            meanP = p.mul(m).sum(0).div(count);
        }
        return f.mul(meanP).sum().mul(auxLossCoef * experts); // scalar
    }

    /**
     * Keeps each token's k largest weights and renormalises them to sum to 1.
     *
     * <p>Expert i is kept when fewer than k experts beat it; j beats i when {@code p_j > p_i}, or when
     * {@code p_j = p_i} and {@code j < i} (so ties go to the lower index and exactly k are kept). The
     * comparisons give booleans, so the kept set is a constant for gradients. (M2.1's {@code top_k} op is not
     * used: {@code sd.nn.topK} passes its arguments in the wrong order, so the op reads k as 0 or 1.)
     */
    private SDVariable keepTopK(SameDiff sd, SDVariable p /* [tokens, N] */) {
        if (topK == experts) {
            return p; // all kept, and they already sum to 1
        }
        DataType dt = p.dataType();
        SDVariable pi = p.reshape(-1, experts, 1); // [tokens, N, 1]
        SDVariable pj = p.reshape(-1, 1, experts); // [tokens, 1, N]
        INDArray lowerIndex = Nd4j.zeros(dt, experts, experts); // [N, N]: 1 where j < i
        for (int i = 0; i < experts; i++) {
            for (int j = 0; j < i; j++) {
                lowerIndex.putScalar(i, j, 1.0);
            }
        }
        SDVariable greater = sd.gt(pj, pi).castTo(dt); // [tokens, N, N]
        SDVariable tiedBefore = sd.eq(pj, pi).castTo(dt).mul(sd.constant(lowerIndex)); // [tokens, N, N]
        SDVariable beatenBy = greater.add(tiedBefore).sum(2); // [tokens, N]
        SDVariable keep = sd.lt(beatenBy, topK - 0.5).castTo(dt); // [tokens, N]
        SDVariable kept = p.mul(keep); // [tokens, N]
        return kept.div(kept.sum(true, 1)); // [tokens, N]
    }

    /** {@code base}, or {@code base_1}, {@code base_2}, ... when the graph already has that name. */
    static String freeName(SameDiff sd, String base) {
        String name = base;
        for (int i = 1; sd.hasVariable(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }
}
