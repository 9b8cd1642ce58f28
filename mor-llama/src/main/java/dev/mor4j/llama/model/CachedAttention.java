package dev.mor4j.llama.model;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The attention core of a decode step: {@code T} new queries over a key/value cache of fixed capacity {@code C} and
 * over the new positions' own keys and values, each read where it lies, so that nothing of the cache is copied.
 *
 * <p>With the cache's keys and values {@code K_c, V_c} {@code [B, n_kv, C, hd]} and the new ones {@code k, v}
 * {@code [B, n_kv, T, hd]}:
 * <pre>
 *   s   = [q K_cᵀ ‖ q kᵀ] + bias          [B, h, T, C+T]   (‖: along the key axis)
 *   p   = softmax(s)                      over the C+T keys
 *   ctx = p[:, :, :, :C] V_c + p[:, :, :, C:] v
 * </pre>
 * which is {@code softmax(q [K_c ‖ k]ᵀ + bias) [V_c ‖ v]} without forming {@code [K_c ‖ k]}: only the scores, of
 * {@code C+T} entries per query, are joined. The bias masks the slots of the cache that hold no position yet (and
 * the new positions' causal future) with float32's lowest value, whose {@code exp} is exactly 0, so unused slots
 * (which must hold finite numbers) add nothing.
 *
 * <p>Grouped-query attention needs no repeated keys and values: the {@code g = h / n_kv} query heads served by one
 * key/value head are taken as {@code g·T} query rows of it, {@code q} {@code [B, h, T, hd]} read as
 * {@code [B, n_kv, g·T, hd]} (query head {@code j·g + i} uses key/value head {@code j}, as transformers'
 * {@code repeat_kv}), with the bias repeated for the {@code g} blocks of rows.
 */
final class CachedAttention {

    private CachedAttention() {
    }

    /**
     * @param q      {@code [B, h, T, hd]} (already scaled)
     * @param cacheK {@code [B, n_kv, C, hd]} the cache's keys (after rotary embedding)
     * @param cacheV {@code [B, n_kv, C, hd]}
     * @param newK   {@code [B, n_kv, T, hd]} the new positions' keys
     * @param newV   {@code [B, n_kv, T, hd]}
     * @param bias   {@code [B, 1, T, C+T]}: the cache's C slots, then the T new positions
     * @param b      {@code [1]} LONG: B
     * @param t      {@code [1]} LONG: T
     * @return {@code [B, h, T, hd]}
     */
    static SDVariable of(SameDiff sd, SDVariable q, SDVariable cacheK, SDVariable cacheV, SDVariable newK,
            SDVariable newV, SDVariable bias, SDVariable b, SDVariable t, int nh, int nkv, int hd) {
        int groups = nh / nkv;
        SDVariable qg = groups == 1 ? q
                : sd.reshape(q, LongVector.of(sd, b, nkv, t.mul(groups), hd)); // [B, n_kv, g·T, hd]
        SDVariable scoresCache = sd.mmul(qg, cacheK, false, true, false); // [B, n_kv, g·T, C]
        SDVariable scoresNew = sd.mmul(qg, newK, false, true, false); // [B, n_kv, g·T, T]
        SDVariable scores = sd.concat(3, scoresCache, scoresNew); // [B, n_kv, g·T, C+T]
        // row i·T + j of a key/value head is query j of its i-th query head: the bias of query j, g times over
        SDVariable rowBias = groups == 1 ? bias : sd.tile(bias, 1, 1, groups, 1); // [B, 1, g·T, C+T]
        SDVariable probs = sd.nn.softmax(scores.add(rowBias), 3); // [B, n_kv, g·T, C+T]
        SDVariable c = sd.shape(cacheK).castTo(DataType.LONG).get(SDIndex.interval(2, 3)); // [1]: C
        SDVariable[] parts = sd.splitV(probs, sd.concat(0, c, t), 2, 3); // [B, n_kv, g·T, C], [B, n_kv, g·T, T]
        SDVariable ctx = sd.mmul(parts[0], cacheV).add(sd.mmul(parts[1], newV)); // [B, n_kv, g·T, hd]
        return groups == 1 ? ctx : sd.reshape(ctx, LongVector.of(sd, b, nh, t, hd)); // [B, h, T, hd]
    }
}
