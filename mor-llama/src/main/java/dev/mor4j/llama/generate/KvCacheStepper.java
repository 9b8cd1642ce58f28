package dev.mor4j.llama.generate;

import dev.mor4j.llama.adapter.TaskSelection;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Steps through a sequence with a {@link KvCache}: the prompt is computed once (prefill) and each appended
 * token is a single-position pass attending to the cached keys and values.
 */
public final class KvCacheStepper implements LogitsStepper {

    private final KvCacheForward forward;
    private final TaskSelection tasks; // null without per-example adapters
    private KvCache cache; // null before start
    private long[] taskIds; // [1]: the current sequence's task; null without per-example adapters

    /** @param forward the prefill and decode graphs, built once and shared by every sequence */
    public KvCacheStepper(KvCacheForward forward) {
        this(forward, null);
    }

    /**
     * @param tasks chooses each sequence's task from its prompt, for MoRE adapters (every step of the sequence
     *              uses it); null for other adapters
     */
    public KvCacheStepper(KvCacheForward forward, TaskSelection tasks) {
        this.forward = forward;
        this.tasks = tasks;
    }

    @Override
    public float[] start(int[] promptIds) {
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("the prompt has no token");
        }
        taskIds = tasks == null ? null : new long[] {tasks.taskFor(promptIds)};
        KvCacheForward.Step s = forward.prefill(new int[][] {promptIds}, taskIds);
        cache = s.cache();
        return lastRow(s.logits());
    }

    @Override
    public float[] append(int tokenId) {
        if (cache == null) {
            throw new IllegalStateException("start a sequence first");
        }
        KvCacheForward.Step s = forward.decode(cache, new int[][] {{tokenId}}, taskIds);
        cache = s.cache();
        return lastRow(s.logits());
    }

    @Override
    public int length() {
        return cache == null ? 0 : cache.length();
    }

    @Override
    public int maxLength() {
        return forward.config().maxPositionEmbeddings();
    }

    /** The cache of the current sequence (null before {@link #start}). */
    public KvCache cache() {
        return cache;
    }

    /** @param logits {@code [1, T, V]} */
    static float[] lastRow(INDArray logits) {
        long t = logits.size(1);
        INDArray row = logits.get(NDArrayIndex.point(0), NDArrayIndex.point(t - 1), NDArrayIndex.all()); // [V]
        return row.toFloatVector();
    }
}
