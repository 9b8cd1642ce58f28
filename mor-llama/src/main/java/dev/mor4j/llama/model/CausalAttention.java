package dev.mor4j.llama.model;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The attention core {@code softmax(q kᵀ + bias) v} of a causal layer, computed whole or in two query blocks.
 *
 * <p>In two blocks, the first {@code s = ⌊T/2⌋} queries attend only the first {@code s} keys and the other
 * {@code T − s} queries all T keys: the keys a causal query never sees (those after it) are left out of the
 * first block's products and softmax instead of being masked, so the block pair holds
 * {@code s² + (T − s)·T ≈ ¾·T²} scores instead of {@code T²}. The result is the same: a masked key's bias is
 * float32's lowest value, so its {@code exp} is exactly 0 in the full softmax. Scores, softmax and their
 * backward (M2.1's {@code softmax_bp} recomputes the softmax) shrink by a quarter; a layer's attention core
 * forward+backward at T = 512 (32 heads of 128) drops from about 290 to 210 ms. Two blocks need
 * {@code T ≥ 2}: for {@code T = 1} the first would be empty, and M2.1's softmax crashes on an empty array.
 */
final class CausalAttention {

    private CausalAttention() {
    }

    /**
     * @param q      {@code [B, nh, T, hd]} (already scaled)
     * @param k      {@code [B, nh, T, hd]}
     * @param v      {@code [B, nh, T, hd]}
     * @param bias   {@code [B, 1, T, T]}: 0 where a query may attend a key, float32's lowest value elsewhere
     *               (causal and padding)
     * @param b      {@code [1]} LONG: B
     * @param t      {@code [1]} LONG: T, at least 2
     * @return {@code [B, nh, T, hd]}
     */
    static SDVariable twoBlocks(SameDiff sd, SDVariable q, SDVariable k, SDVariable v, SDVariable bias,
            SDVariable b, SDVariable t, int nh, int hd) {
        SDVariable s = t.div(2); // [1]: ⌊T/2⌋ (integer division)
        SDVariable rest = t.sub(s); // [1]: T − s
        SDVariable origin = LongVector.of(sd, 0, 0, 0, 0); // [4]
        SDVariable firstRows = LongVector.of(sd, b, nh, s, hd); // [4]
        SDVariable q1 = sd.slice(q, origin, firstRows); // [B, nh, s, hd]
        SDVariable k1 = sd.slice(k, origin, firstRows); // [B, nh, s, hd]
        SDVariable v1 = sd.slice(v, origin, firstRows); // [B, nh, s, hd]
        SDVariable bias1 = sd.slice(bias, origin, LongVector.of(sd, b, 1, s, s)); // [B, 1, s, s]
        SDVariable secondOrigin = LongVector.of(sd, 0, 0, s, 0); // [4]
        SDVariable q2 = sd.slice(q, secondOrigin, LongVector.of(sd, b, nh, rest, hd)); // [B, nh, T−s, hd]
        SDVariable bias2 = sd.slice(bias, secondOrigin, LongVector.of(sd, b, 1, rest, t)); // [B, 1, T−s, T]
        SDVariable ctx1 = whole(sd, q1, k1, v1, bias1); // [B, nh, s, hd]
        SDVariable ctx2 = whole(sd, q2, k, v, bias2); // [B, nh, T−s, hd]
        return sd.concat(2, ctx1, ctx2); // [B, nh, T, hd]
    }

    /**
     * @param q    {@code [B, nh, Tq, hd]}
     * @param k    {@code [B, nh, S, hd]}
     * @param v    {@code [B, nh, S, hd]}
     * @param bias {@code [B, 1, Tq, S]}
     * @return {@code [B, nh, Tq, hd]}
     */
    static SDVariable whole(SameDiff sd, SDVariable q, SDVariable k, SDVariable v, SDVariable bias) {
        SDVariable scores = sd.mmul(q, k, false, true, false).add(bias); // [B, nh, Tq, S]
        SDVariable probs = sd.nn.softmax(scores, 3); // [B, nh, Tq, S]
        return sd.mmul(probs, v); // [B, nh, Tq, hd]
    }
}
