package dev.mor4j.llama.generate;

import dev.mor4j.core.nn.SessionMemory;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaGraph.KvCacheMode;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.ArrayList;
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
 * {@link KvCacheMode#PREFILL} and one in {@link KvCacheMode#DECODE}. All sequences of a batch have the same
 * length (no padding), since the rotary positions are shared by the batch.
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
        this.prefill = LlamaGraph.forGeneration(weights, adapters, adapterWeights, KvCacheMode.PREFILL);
        this.decode = LlamaGraph.forGeneration(weights, adapters, adapterWeights, KvCacheMode.DECODE);
    }

    public LlamaConfig config() {
        return config;
    }

    /**
     * The prompt's pass.
     *
     * @param ids {@code [B][T]} token ids, every row of the same length
     * @return logits {@code [B, T, V]} and the cache of the T positions
     */
    public Step prefill(int[][] ids) {
        return prefill(ids, null);
    }

    /**
     * The prompt's pass for adapters that adapt per example (MoRE).
     *
     * @param taskIds {@code [B]} each sequence's task id; null when the adapters need none
     */
    public Step prefill(int[][] ids, long[] taskIds) {
        Batch batch = new Batch(toLong(ids), null, null, taskIds);
        Map<String, INDArray> feeds = prefill.feeds(batch, false, LlamaFeeds.Reduction.MEAN);
        return run(prefill, feeds, batch.batchSize(), batch.seqLen());
    }

    /**
     * A pass over new tokens that attends to the cached positions.
     *
     * @param past the cache of the {@code P} earlier positions
     * @param ids  {@code [B][T]} the new tokens, at positions {@code P … P+T-1}; B must be the cache's
     * @return logits {@code [B, T, V]} and the cache of all {@code P+T} positions
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
        Map<String, INDArray> feeds = new HashMap<>();
        feeds.put(LlamaGraph.INPUT_IDS, Nd4j.create(checkedIds(ids, t), new long[] {b, t}, DataType.INT)); // [B, T]
        int[] positions = new int[t]; // [T]
        for (int j = 0; j < t; j++) {
            positions[j] = p + j;
        }
        feeds.put(LlamaGraph.POSITION_IDS, Nd4j.create(positions, new long[] {t}, DataType.INT));
        int s = p + t;
        INDArray bias = Nd4j.zeros(dataType, b, 1, t, s); // [B, 1, T, P+T]: new token j sees positions ≤ P+j
        for (int i = 0; i < b; i++) {
            for (int q = 0; q < t; q++) {
                for (int k = p + q + 1; k < s; k++) {
                    bias.putScalar(new long[] {i, 0, q, k}, LlamaFeeds.MASKED);
                }
            }
        }
        feeds.put(LlamaGraph.ATTN_BIAS, bias);
        feeds.put(LlamaGraph.TOKEN_MASK, Nd4j.ones(dataType, (long) b * t, 1)); // [B·T, 1]
        if (decode.taskCount() > 0) {
            feeds.putAll(LlamaFeeds.tasks(new Batch(toLong(ids), null, null, taskIds), decode.taskCount(), dataType));
        }
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            feeds.put(LlamaGraph.pastKey(l), past.key(l));
            feeds.put(LlamaGraph.pastValue(l), past.value(l));
        }
        return run(decode, feeds, b, t);
    }

    private Step run(LlamaGraph graph, Map<String, INDArray> feeds, int b, int t) {
        int layers = config.numHiddenLayers();
        List<String> outputs = new ArrayList<>();
        outputs.add(LlamaGraph.LOGITS);
        for (int l = 0; l < layers; l++) {
            outputs.add(LlamaGraph.presentKey(l));
            outputs.add(LlamaGraph.presentValue(l));
        }
        Map<String, INDArray> out = SessionMemory.output(graph.sd(), feeds, outputs.toArray(new String[0]));
        INDArray[] keys = new INDArray[layers]; // L × [B, n_kv, P+T, hd]
        INDArray[] values = new INDArray[layers]; // L × [B, n_kv, P+T, hd]
        for (int l = 0; l < layers; l++) {
            // copies: the cache outlives this call, and the session may reuse its buffers
            keys[l] = out.get(LlamaGraph.presentKey(l)).dup();
            values[l] = out.get(LlamaGraph.presentValue(l)).dup();
        }
        INDArray logits = out.get(LlamaGraph.LOGITS).reshape(b, t, -1); // [B, T, V]
        return new Step(logits, new KvCache(keys, values));
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
