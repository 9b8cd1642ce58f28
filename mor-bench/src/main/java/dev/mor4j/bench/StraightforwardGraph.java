package dev.mor4j.bench;

import dev.mor4j.core.adapter.MixtureOfRanks;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The "before" of the projection benchmarks: the frozen projection, alone or with MoR N 8 r 8, written the
 * straightforward way and run the way SameDiff M2.1 runs a graph by itself, with the same weights and input
 * as {@link ProjectionGraph} (same seed):
 * <ul>
 *   <li>the frozen weight is a constant multiplied with {@code mmul}, whose backward always computes the
 *       weight's gradient too, even though nothing asks for it;</li>
 *   <li>MoR's rank-{@code N·r} factors are built by broadcasting multiplications of reshaped tensors
 *       ({@code [T, N, r]} and {@code [d_out, N, r]}), whose backward passes reduce over the broadcast axes;</li>
 *   <li>gradients come from {@code calculateGradients} (array cache off) in SameDiff's default session.</li>
 * </ul>
 */
public final class StraightforwardGraph {

    private final SameDiff sd;
    private final Map<String, INDArray> feeds;
    private final List<String> gradientNames;

    /** @param mor false for the frozen projection alone, true for it with MoR (softmax router, N 8, r 8) */
    public StraightforwardGraph(boolean mor, int dIn, int dOut, int tokens, long seed) {
        RandomProjection p = new RandomProjection(mor ? Variant.MOR_EXPANDED : Variant.BASE, dIn, dOut, tokens, seed);
        this.sd = SameDiff.create();
        SDVariable x = sd.placeHolder(RandomProjection.INPUT, DataType.FLOAT, -1, dIn); // [T, d_in]
        SDVariable wT = sd.constant("w_t", p.base.weightTransposed()); // [d_in, d_out]
        SDVariable y = sd.mmul(x, wT); // [T, d_out]
        if (p.layer != null) {
            y = y.add(morDelta(x, p.weights, RandomProjection.PREFIX + ".", (MixtureOfRanks) p.layer, dOut)); // [T, d_out]
        }
        this.gradientNames = p.finish(sd, y, List.of());
        this.feeds = p.feeds;
    }

    /** {@code Δ = C Mᵀ} with C and M built by broadcasting, as the equations read. */
    private SDVariable morDelta(SDVariable x, Map<String, INDArray> weights, String p, MixtureOfRanks layer,
            int dOut) {
        int n = layer.config().experts();
        int r = layer.config().r();
        double s = layer.config().scaling();
        SDVariable a = sd.var(p + MixtureOfRanks.LORA_A, weights.get(p + MixtureOfRanks.LORA_A)); // [r, d_in]
        SDVariable b = sd.var(p + MixtureOfRanks.LORA_B, weights.get(p + MixtureOfRanks.LORA_B)); // [d_out, r]
        SDVariable omegaA = sd.var(p + MixtureOfRanks.OMEGA_A, weights.get(p + MixtureOfRanks.OMEGA_A)); // [N, r]
        SDVariable omegaB = sd.var(p + MixtureOfRanks.OMEGA_B, weights.get(p + MixtureOfRanks.OMEGA_B)); // [N, d_out]
        SDVariable wr = sd.var(p + MixtureOfRanks.ROUTER, weights.get(p + MixtureOfRanks.ROUTER)); // [N, d_in]
        SDVariable g = sd.nn.softmax(sd.mmul(x, wr, false, true, false), 1); // [T, N]
        SDVariable h = sd.mmul(x, a, false, true, false); // [T, r]
        SDVariable c = g.reshape(-1, n, 1).mul(h.reshape(-1, 1, r).mul(omegaA.reshape(1, n, r)).mul(s))
                .reshape(-1, (long) n * r); // [T, N·r]
        SDVariable m = sd.permute(omegaB, 1, 0).reshape(dOut, n, 1).mul(b.reshape(dOut, 1, r))
                .reshape(dOut, (long) n * r); // [d_out, N·r]
        return sd.mmul(c, m, false, true, false); // [T, d_out]
    }

    /** @return {@code y [T, d_out]} */
    public INDArray forward() {
        return sd.output(feeds, RandomProjection.OUTPUT).get(RandomProjection.OUTPUT);
    }

    /** The gradients of {@code sum(y)} for the adapter weights and {@code x}, through {@code calculateGradients}. */
    public Map<String, INDArray> forwardBackward() {
        return sd.calculateGradients(feeds, gradientNames);
    }

    public List<String> gradientNames() {
        return gradientNames;
    }
}
