package dev.mor4j.llama.generate;

import dev.mor4j.core.nn.SessionMemory;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs a LLaMA model (with any adapters) incrementally: a prefill pass over the prompt that returns the
 * logits and the {@link KvCache}, then decode passes that take only the new tokens and the cache.
 *
 * <p>Two {@link LlamaGraph}s are built once, in the constructor, and reused for every call: one in
 * {@link GraphKind#PREFILL} and one {@link GraphKind#DECODE}. All sequences of a batch have the same
 * length (no padding), since the rotary positions are shared by the batch.
 *
 * <p>The cache has a fixed capacity, chosen at the prefill ({@link #prefill(int[][], int)}: the longest the
 * sequence will get, e.g. prompt plus new tokens). A decode step feeds the cache's arrays to the graph as they are
 * (its attention reads them in place and masks the slots not yet filled) and writes the new positions' keys and
 * values, the graph's small outputs, into the next slots: per step nothing of the cache is copied or reallocated.
 * A step that does not fit moves the cache once into arrays of twice the capacity (at most
 * {@code max_position_embeddings}), so a sequence may outgrow the capacity it was given at a cost amortised over
 * the steps.
 */
public final class KvCacheForward {

    /**
     * What a pass returns.
     *
     * @param logits {@code [B, T, V]} for the T tokens of the pass
     * @param cache  the keys and values of every position so far, the pass's tokens included
     */
    public record Step(INDArray logits, KvCache cache) {
    }

    private final LlamaConfig config;
    private final DataType dataType;
    private final LlamaGraph prefill;
    private final LlamaGraph decode;

    /** The base model, with no adapter. */
    public KvCacheForward(LlamaWeights weights) {
        this(weights, Map.of(), Map.of());
    }

    /** The model with these adapters spliced in (inference: no dropout). */
    public KvCacheForward(LlamaWeights weights, LlamaAdapters adapters) {
        this(weights, adapters.layers(), adapters.weights());
    }

    /**
     * @param adapters       adapter layers by module name; may be empty
     * @param adapterWeights their weights by full PEFT key
     */
    public KvCacheForward(LlamaWeights weights, Map<String, AdapterLayer> adapters, Map<String, INDArray> adapterWeights) {
        this.config = weights.config();
        this.dataType = weights.dataType();
        this.prefill = LlamaGraph.build(weights, adapters, adapterWeights, GraphKind.PREFILL);
        this.decode = LlamaGraph.build(weights, adapters, adapterWeights, GraphKind.DECODE);
    }

    public LlamaConfig config() {
        return config;
    }

    /** The graph of the decode steps (to trace what a step runs). */
    LlamaGraph decodeGraph() {
        return decode;
    }

    /**
     * The prompt's pass, with a cache that has room for the prompt alone.
     *
     * @param ids {@code [B][T]} token ids, every row of the same length
     * @return logits {@code [B, T, V]} and the cache of the T positions
     */
    public Step prefill(int[][] ids) {
        return prefill(ids, null);
    }

    /**
     * The prompt's pass for adapters that adapt per example (MoRE), with a cache that has room for the prompt alone.
     *
     * @param taskIds {@code [B]} each sequence's task id; null when the adapters need none
     */
    public Step prefill(int[][] ids, long[] taskIds) {
        return prefill(ids, taskIds, ids[0].length);
    }

    /**
     * The prompt's pass.
     *
     * @param ids      {@code [B][T]} token ids, every row of the same length
     * @param taskIds  {@code [B]} each sequence's task id; null when the adapters need none
     * @param capacity the positions the cache has room for: at least T, at most {@code max_position_embeddings}
     * @return logits {@code [B, T, V]} and the cache of the T positions
     */
    public Step prefill(int[][] ids, long[] taskIds, int capacity) {
        Batch batch = new Batch(toLong(ids), null, null, taskIds);
        int t = batch.seqLen();
        if (capacity < t || capacity > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("the cache's capacity must be in [" + t + ", "
                    + config.maxPositionEmbeddings() + "] (the prompt's length, max_position_embeddings), got "
                    + capacity);
        }
        Map<String, INDArray> feeds = prefill.feeds(batch, LlamaFeeds.Reduction.MEAN);
        long[] slots = {batch.batchSize(), config.numKeyValueHeads(), capacity, config.headDim()}; // [B, n_kv, C, hd]
        KvCache empty = KvCache.allocate(config.numHiddenLayers(), slots, dataType);
        return run(prefill, feeds, empty, batch.batchSize(), t);
    }

    /**
     * A pass over new tokens that attends to the cached positions, whose keys and values it writes into the
     * cache's arrays after them (see {@link KvCache}).
     *
     * @param past the cache of the {@code P} earlier positions
     * @param ids  {@code [B][T]} the new tokens, at positions {@code P … P+T-1}; B must be the cache's
     * @return logits {@code [B, T, V]} and the cache of all {@code P+T} positions (over the same arrays as
     *         {@code past} unless they had no room)
     * @throws MorException when {@code P+T} exceeds {@code max_position_embeddings} or an id is out of range
     */
    public Step decode(KvCache past, int[][] ids) {
        return decode(past, ids, null);
    }

    /**
     * As {@link #decode(KvCache, int[][])} for adapters that adapt per example (MoRE).
     *
     * @param taskIds {@code [B]} each sequence's task id, the one its prefill used; null when the adapters need none
     */
    public Step decode(KvCache past, int[][] ids, long[] taskIds) {
        if (past.layers() != config.numHiddenLayers()) {
            throw new IllegalArgumentException("the cache has " + past.layers() + " layers, the model "
                    + config.numHiddenLayers());
        }
        int b = ids.length;
        if (b != past.batchSize()) {
            throw new IllegalArgumentException("the cache holds " + past.batchSize() + " sequences, got " + b);
        }
        int t = ids[0].length;
        if (t == 0) {
            throw new IllegalArgumentException("decode needs at least one new token");
        }
        int p = past.length();
        if (p + t > config.maxPositionEmbeddings()) {
            throw new MorException("sequence length " + (p + t) + " exceeds max_position_embeddings ("
                    + config.maxPositionEmbeddings() + ") of config.json");
        }
        int[] flatIds = checkedIds(ids, t); // [B·T]
        KvCache cache = past;
        if (p + t > cache.capacity()) {
            cache = cache.withCapacity(Math.min(config.maxPositionEmbeddings(), Math.max(p + t, 2 * cache.capacity())));
        }
        int c = cache.capacity();
        Map<String, INDArray> feeds = new HashMap<>();
        feeds.put(LlamaGraph.INPUT_IDS, Nd4j.create(flatIds, new long[] {b, t}, DataType.INT)); // [B, T]
        int[] positions = new int[t]; // [T]
        for (int j = 0; j < t; j++) {
            positions[j] = p + j;
        }
        feeds.put(LlamaGraph.POSITION_IDS, Nd4j.create(positions, new long[] {t}, DataType.INT));
        feeds.put(LlamaGraph.ATTN_BIAS, decodeBias(b, t, p, c)); // [B, 1, T, C+T]
        feeds.put(LlamaGraph.TOKEN_MASK, Nd4j.ones(dataType, (long) b * t, 1)); // [B·T, 1]
        if (decode.taskCount() > 0) {
            feeds.putAll(LlamaFeeds.tasks(new Batch(toLong(ids), null, null, taskIds), decode.taskCount(), dataType));
        }
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            feeds.put(LlamaGraph.pastKey(l), cache.keySlots(l)); // [B, n_kv, C, hd]
            feeds.put(LlamaGraph.pastValue(l), cache.valueSlots(l)); // [B, n_kv, C, hd]
        }
        return run(decode, feeds, cache, b, t);
    }

    /**
     * The decode step's attention bias {@code [B, 1, T, C+T]}: new token {@code j} sees the cache's {@code P}
     * filled slots and the new tokens up to itself; the cache's slots from {@code P} on are masked.
     */
    private INDArray decodeBias(int b, int t, int p, int c) {
        int s = c + t;
        float[] bias = new float[b * t * s]; // [B, 1, T, C+T]
        for (int i = 0; i < b; i++) {
            for (int q = 0; q < t; q++) {
                int row = (i * t + q) * s;
                Arrays.fill(bias, row + p, row + c, LlamaFeeds.MASKED);
                Arrays.fill(bias, row + c + q + 1, row + s, LlamaFeeds.MASKED);
            }
        }
        INDArray a = Nd4j.create(bias, new long[] {b, 1, t, s}, DataType.FLOAT);
        return dataType == DataType.FLOAT ? a : a.castTo(dataType);
    }

    /** Runs a pass, appends its positions' keys and values to {@code cache}, and returns the logits and the cache. */
    private Step run(LlamaGraph graph, Map<String, INDArray> feeds, KvCache cache, int b, int t) {
        int layers = config.numHiddenLayers();
        List<String> outputs = new ArrayList<>();
        outputs.add(LlamaGraph.LOGITS);
        for (int l = 0; l < layers; l++) {
            outputs.add(LlamaGraph.presentKey(l));
            outputs.add(LlamaGraph.presentValue(l));
        }
        Map<String, INDArray> out = SessionMemory.output(graph.sd(), feeds, outputs.toArray(new String[0]));
        INDArray[] keys = new INDArray[layers]; // L × [B, n_kv, T, hd]
        INDArray[] values = new INDArray[layers]; // L × [B, n_kv, T, hd]
        for (int l = 0; l < layers; l++) {
            keys[l] = out.get(LlamaGraph.presentKey(l));
            values[l] = out.get(LlamaGraph.presentValue(l));
        }
        INDArray logits = out.get(LlamaGraph.LOGITS).reshape(b, t, -1); // [B, T, V]
        return new Step(logits, cache.append(keys, values));
    }

    private int[] checkedIds(int[][] ids, int t) {
        int[] flat = new int[ids.length * t]; // [B·T]
        for (int i = 0; i < ids.length; i++) {
            if (ids[i].length != t) {
                throw new IllegalArgumentException("ids[" + i + "]: expected length " + t + ", got " + ids[i].length);
            }
            for (int j = 0; j < t; j++) {
                int id = ids[i][j];
                if (id < 0 || id >= config.vocabSize()) {
                    throw new MorException("token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
                }
                flat[i * t + j] = id;
            }
        }
        return flat;
    }

    private static long[][] toLong(int[][] ids) {
        long[][] out = new long[ids.length][];
        for (int i = 0; i < ids.length; i++) {
            out[i] = new long[ids[i].length];
            for (int j = 0; j < ids[i].length; j++) {
                out[i][j] = ids[i][j];
            }
        }
        return out;
    }
}
