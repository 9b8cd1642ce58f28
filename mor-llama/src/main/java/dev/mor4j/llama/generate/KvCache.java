package dev.mor4j.llama.generate;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The keys and values of every layer for the positions a sequence has so far: what a decode step attends to
 * instead of recomputing the prefix.
 *
 * <p>Layer {@code l} stores its keys and values in arrays of a fixed capacity {@code C}, each
 * {@code [B, n_kv, C, hd]}, of which the first {@code P} slots ({@link #length()}) hold the keys after rotary
 * embedding and the values of the positions seen so far, in position order, for the {@code n_kv} key/value heads
 * (before grouped-query heads are repeated); the other slots hold finite numbers that mean nothing. A decode step
 * writes its new positions into slots {@code P …} of the same arrays and returns a cache of the greater length
 * over them, so a step copies only its new positions (when they do not fit, the arrays are replaced by larger ones
 * once, see {@link KvCacheForward#decode}). A cache is never changed in its own {@code P} slots: a sequence can be
 * continued from an earlier cache again (to branch it), which overwrites the slots after that cache's length, so
 * that a longer cache over the same arrays no longer holds its own positions.
 */
public final class KvCache {

    private final INDArray[] keys; // L × [B, n_kv, C, hd]
    private final INDArray[] values; // L × [B, n_kv, C, hd]
    private final int length; // P ≤ C

    /**
     * A full cache: every slot holds a position ({@code P = C}).
     *
     * @param keys   per layer {@code [B, n_kv, P, hd]}
     * @param values per layer {@code [B, n_kv, P, hd]}, the same shapes as the keys
     */
    public KvCache(INDArray[] keys, INDArray[] values) {
        this(keys, values, keys.length == 0 ? 0 : (int) keys[0].size(2));
    }

    /**
     * @param keys   per layer {@code [B, n_kv, C, hd]}
     * @param values per layer {@code [B, n_kv, C, hd]}, the same shapes as the keys
     * @param length P, the number of filled slots (at most C)
     */
    public KvCache(INDArray[] keys, INDArray[] values, int length) {
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
                        + Arrays.toString(shape) + " = [B, n_kv, C, hd]");
            }
        }
        if (length < 0 || length > shape[2]) {
            throw new IllegalArgumentException("the cache's length must be in [0, " + shape[2] + "] (its capacity), got "
                    + length);
        }
        this.keys = keys.clone();
        this.values = values.clone();
        this.length = length;
    }

    /** An empty cache ({@code P = 0}) of capacity {@code C}, zero-filled: per layer {@code [B, n_kv, C, hd]}. */
    static KvCache allocate(int layers, long[] shape, DataType type) {
        INDArray[] k = new INDArray[layers]; // L × [B, n_kv, C, hd]
        INDArray[] v = new INDArray[layers]; // L × [B, n_kv, C, hd]
        for (int l = 0; l < layers; l++) {
            k[l] = Nd4j.zeros(type, shape);
            v[l] = Nd4j.zeros(type, shape);
        }
        return new KvCache(k, v, 0);
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
        return length;
    }

    /** C: the number of positions the arrays have room for. */
    public int capacity() {
        return (int) keys[0].size(2);
    }

    /** Layer {@code l}'s keys {@code [B, n_kv, P, hd]}: a view of its first P slots (do not modify). */
    public INDArray key(int layer) {
        return filled(keys[layer]);
    }

    /** Layer {@code l}'s values {@code [B, n_kv, P, hd]}: a view of its first P slots (do not modify). */
    public INDArray value(int layer) {
        return filled(values[layer]);
    }

    private INDArray filled(INDArray slots) {
        return slots.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, length), NDArrayIndex.all());
    }

    /** Layer {@code l}'s key slots {@code [B, n_kv, C, hd]}, all of them: what a decode step reads and writes. */
    INDArray keySlots(int layer) {
        return keys[layer];
    }

    /** Layer {@code l}'s value slots {@code [B, n_kv, C, hd]}. */
    INDArray valueSlots(int layer) {
        return values[layer];
    }

    /**
     * Writes the keys and values of {@code T} positions into slots {@code P … P+T−1} of this cache's arrays and
     * returns the cache of length {@code P+T} over the same arrays (this one keeps its length).
     *
     * @param newKeys   per layer {@code [B, n_kv, T, hd]}
     * @param newValues per layer {@code [B, n_kv, T, hd]}
     * @throws IllegalArgumentException when {@code P+T} exceeds the capacity
     */
    KvCache append(INDArray[] newKeys, INDArray[] newValues) {
        int t = (int) newKeys[0].size(2);
        if (length + t > capacity()) {
            throw new IllegalArgumentException(t + " new positions do not fit a cache of " + length + " positions and"
                    + " capacity " + capacity());
        }
        for (int l = 0; l < keys.length; l++) {
            slots(keys[l], length, t).assign(newKeys[l]);
            slots(values[l], length, t).assign(newValues[l]);
        }
        return new KvCache(keys, values, length + t);
    }

    /** This cache's positions in new arrays of a larger {@code capacity} (a copy; this cache is left as it is). */
    KvCache withCapacity(int capacity) {
        if (capacity < length) {
            throw new IllegalArgumentException("a capacity of " + capacity + " cannot hold " + length + " positions");
        }
        long[] shape = keys[0].shape().clone();
        shape[2] = capacity;
        KvCache grown = allocate(keys.length, shape, keys[0].dataType());
        for (int l = 0; l < keys.length && length > 0; l++) {
            slots(grown.keys[l], 0, length).assign(key(l));
            slots(grown.values[l], 0, length).assign(value(l));
        }
        return new KvCache(grown.keys, grown.values, length);
    }

    /** Slots {@code [from, from+n)} of {@code a} {@code [B, n_kv, C, hd]}: a view. */
    private static INDArray slots(INDArray a, int from, int n) {
        return a.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(from, from + n), NDArrayIndex.all());
    }

    /** Bytes held by the cache's arrays (all C slots). */
    public long bytes() {
        long n = 0;
        for (int l = 0; l < keys.length; l++) {
            n += keys[l].length() * keys[l].dataType().width() + values[l].length() * values[l].dataType().width();
        }
        return n;
    }

    @Override
    public String toString() {
        return "KvCache[" + keys.length + " layers × " + Arrays.toString(keys[0].shape()) + ", " + length
                + " positions]";
    }
}
