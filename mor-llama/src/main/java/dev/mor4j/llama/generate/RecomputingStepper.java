package dev.mor4j.llama.generate;

import dev.mor4j.llama.adapter.TaskSelection;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import java.util.Arrays;

/**
 * Steps through a sequence without a cache: every step runs the whole sequence through a {@link LlamaGraph}
 * again and keeps the last position's logits. Quadratic in the length; the reference that
 * {@link KvCacheStepper} must agree with, and the baseline it is timed against.
 */
public final class RecomputingStepper implements LogitsStepper {

    private final LlamaGraph graph;
    private final TaskSelection tasks; // null without per-example adapters
    private long[] ids = new long[0];
    private long[] taskIds; // [1]: the current sequence's task; null without per-example adapters

    /** @param graph an inference graph without a loss, built once and reused for every step */
    public RecomputingStepper(LlamaGraph graph) {
        this(graph, null);
    }

    /**
     * @param tasks chooses each sequence's task from its prompt, for MoRE adapters; null for other adapters
     */
    public RecomputingStepper(LlamaGraph graph, TaskSelection tasks) {
        this.tasks = tasks;
        if (graph.hasLoss()) {
            throw new IllegalArgumentException("expected a graph without a loss");
        }
        this.graph = graph;
    }

    @Override
    public float[] start(int[] promptIds) {
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("the prompt has no token");
        }
        ids = Arrays.stream(promptIds).asLongStream().toArray();
        taskIds = tasks == null ? null : new long[] {tasks.taskFor(promptIds)};
        return run();
    }

    @Override
    public float[] append(int tokenId) {
        if (ids.length == 0) {
            throw new IllegalStateException("start a sequence first");
        }
        ids = Arrays.copyOf(ids, ids.length + 1);
        ids[ids.length - 1] = tokenId;
        return run();
    }

    private float[] run() {
        LlamaForward.Result r = LlamaForward.run(graph, new Batch(new long[][] {ids}, null, null, taskIds));
        return KvCacheStepper.lastRow(r.logits()); // of [1, T, V]
    }

    @Override
    public int length() {
        return ids.length;
    }

    @Override
    public int maxLength() {
        return graph.weights().config().maxPositionEmbeddings();
    }
}
