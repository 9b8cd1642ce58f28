package dev.mor4j.llama;

import dev.mor4j.core.TestData;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.MoreTasks;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;

/** MoRE adapters on the bundled tiny model whose tasks choose different ranks, for the inference tests. */
public final class MoreFixtures {

    /** The three tasks of {@link #adapters}. */
    public static final List<String> TASKS = List.of("alpha", "beta", "gamma");

    private MoreFixtures() {
    }

    /** MoRE on gate/up/down: R 8, rank experts 1, 2, 4, 8, α 32, no dropout, the given tasks. */
    public static AdapterConfig config(List<String> tasks) {
        return AdapterConfig.more(tasks).rank(8).alpha(32).dropout(0.0).rankExperts(1, 2, 4, 8).taskLossWeight(0.1)
                .taskTemperature(0.05).build();
    }

    /**
     * MoRE adapters for {@link #TASKS} whose B (entries in ±0.1) and task embeddings (±10) are random and large enough
     * that the selector's logits spread and tasks pick different ranks in different modules.
     */
    public static LlamaAdapters adapters(LlamaWeights model, long seed) {
        LlamaAdapters a = LlamaAdapters.create(model, config(TASKS), seed);
        a.weights().forEach((k, v) -> {
            if (k.endsWith("lora_B.weight") || k.endsWith("more_task_embedding")) {
                double scale = k.endsWith("lora_B.weight") ? 0.2 : 20;
                Random rng = new Random(seed * 31 + k.hashCode());
                float[] values = new float[(int) v.length()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) ((rng.nextDouble() - 0.5) * scale);
                }
                v.assign(org.nd4j.linalg.factory.Nd4j.create(values, v.shape(), 'c'));
            }
        });
        return a;
    }

    /** The logits {@code [B, T, V]} of the MoRE adapters with every row of the batch given one task. */
    public static INDArray logits(LlamaWeights model, LlamaAdapters more, Batch batch, int task) {
        long[] tasks = new long[batch.batchSize()];
        Arrays.fill(tasks, task);
        LlamaGraph graph = more.graph(model, GraphKind.INFERENCE);
        return LlamaForward.run(graph, batch.withTaskIds(tasks)).logits();
    }

    /** A task whose modules choose more than one distinct rank (so its LoRA needs a {@code rank_pattern}). */
    public static int taskWithMixedRanks(LlamaAdapters more) {
        for (int t = 0; t < TASKS.size(); t++) {
            Collection<Integer> ranks = MoreTasks.chosenRanks(more, t).values();
            if (ranks.stream().distinct().count() > 1) {
                return t;
            }
        }
        throw new AssertionError("no task chooses different ranks in different modules: " + selection(more));
    }

    /** Every task's chosen ranks, for messages. */
    public static String selection(LlamaAdapters more) {
        StringBuilder b = new StringBuilder();
        for (int t = 0; t < TASKS.size(); t++) {
            Map<String, Integer> r = MoreTasks.chosenRanks(more, t);
            b.append(TASKS.get(t)).append(": ").append(r.values()).append('\n');
        }
        return b.toString();
    }

    /** max |a − b| / max |b|. */
    public static double relativeDiff(INDArray a, INDArray b) {
        return TestData.maxAbsDiff(a, b) / b.amaxNumber().doubleValue();
    }
}
