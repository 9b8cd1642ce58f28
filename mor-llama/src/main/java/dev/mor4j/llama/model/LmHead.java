package dev.mor4j.llama.model;

import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.core.nn.LeanProduct;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The LM head's two products with {@code W_lm [V, H]}: the logits {@code x · W_lmᵀ} and, in a graph with a loss,
 * the loss's gradient product {@code G · W_lm} ({@code G [B·T, V]}, see {@link LlamaGraph}).
 *
 * <p>A 16-bit lm_head is widened to float32 for its products. At LLaMA-3's vocabulary of 128256 the widened
 * weight alone is 2.1 GB, so a head whose widened weight exceeds {@link #chunkBytes} is widened one vocabulary
 * slice {@code [a, b)} at a time: {@code logits[:, a:b] = x · W_lm[a:b]ᵀ}, concatenated, and
 * {@code G · W_lm = Σ_slices G[:, a:b] · W_lm[a:b]}. Each slice is cut, widened and multiplied only after the
 * previous slice's product (control dependencies: SameDiff would otherwise cut and widen every slice at the
 * start), so at most one widened slice exists at a time. The logits are the same numbers (each entry is the
 * same dot product); the gradient product sums the slices in another order (within float32 rounding).
 */
final class LmHead {

    /** The most bytes of widened lm_head weight one product may use (a head this large or smaller is one slice). */
    static final long CHUNK_BYTES = 300L << 20;

    /** {@link #CHUNK_BYTES}, lowered by tests to exercise the sliced path on small models. */
    static long chunkBytes = CHUNK_BYTES;

    private final SameDiff sd;
    private final FrozenLinear head;
    private final long[] starts; // vocabulary slice starts, then V

    LmHead(SameDiff sd, FrozenLinear head) {
        this.sd = sd;
        this.head = head;
        long vocab = head.outFeatures();
        long widenedBytes = vocab * head.inFeatures() * head.dataType().width();
        int slices = head.storedType() == head.dataType() ? 1 : (int) Math.max(1, -Math.floorDiv(-widenedBytes, chunkBytes));
        starts = new long[slices + 1];
        for (int i = 0; i <= slices; i++) {
            starts[i] = vocab * i / slices;
        }
    }

    /** Whether the head is widened in more than one slice. */
    boolean sliced() {
        return starts.length > 2;
    }

    /**
     * @param x {@code [B·T, H]}
     * @return the logits {@code [B·T, V]}
     */
    SDVariable logits(SDVariable x) {
        if (!sliced()) {
            return head.forward(sd, x);
        }
        List<SDVariable> parts = new ArrayList<>();
        SDVariable after = x;
        for (int i = 0; i + 1 < starts.length; i++) {
            SDVariable w = widenedSlice(i, after); // [H, b-a]
            after = LeanProduct.of(sd, x, w, starts[i + 1] - starts[i]); // [B·T, b-a]
            parts.add(after);
        }
        return sd.concat(1, parts.toArray(new SDVariable[0])); // [B·T, V]
    }

    /**
     * @param g {@code [B·T, V]}
     * @return {@code g · W_lm} {@code [B·T, H]}
     */
    SDVariable times(SDVariable g) {
        if (!sliced()) {
            return sd.mmul(g, head.weightConstant(sd), false, true, false);
        }
        SDVariable sum = null;
        SDVariable after = g;
        for (int i = 0; i + 1 < starts.length; i++) {
            SDVariable w = widenedSlice(i, after); // [H, b-a]
            SDVariable gi = g.get(SDIndex.all(), SDIndex.interval(starts[i], starts[i + 1])); // [B·T, b-a]
            SDVariable part = sd.mmul(gi, w, false, true, false); // [B·T, H]
            after = part;
            sum = sum == null ? part : sum.add(part);
        }
        return sum;
    }

    /** Slice {@code i} of the transposed weight, {@code [H, b-a]} in the compute type, cut only after {@code after}. */
    private SDVariable widenedSlice(int i, SDVariable after) {
        String key = head.name() + ".weight_t";
        SDVariable stored = sd.hasVariable(key) ? sd.getVariable(key) : sd.constant(key, head.weightTransposed()); // [H, V]
        SDVariable slice = stored.get(SDIndex.all(), SDIndex.interval(starts[i], starts[i + 1])); // [H, b-a], 16-bit
        slice.addControlDependency(after);
        return slice.castTo(head.dataType()); // [H, b-a]
    }
}
