package dev.mor4j.llama.generate;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The keys and values of every layer for the positions a sequence has so far: what a decode step attends to
 * instead of recomputing the prefix.
 *
 * <p>Layer {@code l} holds {@code keys[l]} and {@code values[l]}, each {@code [B, n_kv, P, hd]}: the keys after
 * rotary embedding and the values of the {@code P} positions seen so far, in position order, for the
 * {@code n_kv} key/value heads (before grouped-query heads are repeated). A decode step returns a new cache
 * with the new positions appended; caches are never modified in place, so an earlier one can be decoded from
 * again (to branch a sequence).
 */
public final class KvCache {

    private final INDArray[] keys; // L × [B, n_kv, P, hd]
    private final INDArray[] values; // L × [B, n_kv, P, hd]

    /**
     * @param keys   per layer {@code [B, n_kv, P, hd]}
     * @param values per layer {@code [B, n_kv, P, hd]}, the same shapes as the keys
     */
    public KvCache(INDArray[] keys, INDArray[] values) {
        if (keys.length == 0 || keys.length != values.length) {
            throw new IllegalArgumentException("expected the same, non-zero number of key and value layers, got "
                    + keys.length + " and " + values.length);
        }
        long[] shape = keys[0].shape();
        for (int l = 0; l < keys.length; l++) {
            if (keys[l].rank() != 4 || !Arrays.equals(keys[l].shape(), shape)
                    || !Arrays.equals(values[l].shape(), shape)) {
                throw new IllegalArgumentException("layer " + l + ": keys " + Arrays.toString(keys[l].shape())
                        + " and values " + Arrays.toString(values[l].shape()) + " must both be "
                        + Arrays.toString(shape) + " = [B, n_kv, P, hd]");
            }
        }
        this.keys = keys.clone();
        this.values = values.clone();
    }

    public int layers() {
        return keys.length;
    }

    /** B */
    public int batchSize() {
        return (int) keys[0].size(0);
    }

    /** P: the number of positions cached. */
    public int length() {
        return (int) keys[0].size(2);
    }

    /** Layer {@code l}'s keys {@code [B, n_kv, P, hd]} (do not modify). */
    public INDArray key(int layer) {
        return keys[layer];
    }

    /** Layer {@code l}'s values {@code [B, n_kv, P, hd]} (do not modify). */
    public INDArray value(int layer) {
        return values[layer];
    }

    /** Bytes held by the cache. */
    public long bytes() {
        long n = 0;
        for (int l = 0; l < keys.length; l++) {
            n += keys[l].length() * keys[l].dataType().width() + values[l].length() * values[l].dataType().width();
        }
        return n;
    }

    @Override
    public String toString() {
        return "KvCache[" + keys.length + " layers × " + Arrays.toString(keys[0].shape()) + "]";
    }
}
