package dev.mor4j.llama.adapter;

import dev.mor4j.core.MorException;
import dev.mor4j.core.nn.SessionMemory;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code --task auto}: the task of a MoRE adapter whose embedding is most similar to a prompt. The prompt runs once
 * through the model with task id −1 ("no task"), which makes every MoRE update 0, so that each module sees the
 * base model's input; each of the M modules gives the task similarities of the prompt's mean input,
 * {@code S_m[t] = cos(x̄_m, E_m[t]) / τ} {@code [tasks]} ({@link dev.mor4j.core.adapter.AdapterContext#taskSimilarities()},
 * the quantity the task-alignment loss trains), and the pick is
 * <pre>
 *   t* = argmax_t (1/M) Σ_m S_m[t]
 * </pre>
 * (the first of equal ones). The comparison uses the base model's inputs to each module, whereas training aligned
 * the embeddings with the inputs of the adapted model: the modules of the first layer see the same input either
 * way, later ones differ by what the earlier updates changed.
 *
 * <p>One graph is built at construction and reused for every prompt; the picker is not thread-safe.
 */
public final class TaskPicker {

    /** The task id that gives the base model's output. */
    public static final long NO_TASK = -1;

    /**
     * A pick.
     *
     * @param task        the picked task id
     * @param name        its name
     * @param meanCosines {@code [tasks]}: each task's cosine similarity with the prompt, averaged over the modules
     *                    ({@code τ · (1/M) Σ_m S_m[t]})
     * @param modules     M, the number of modules averaged over
     */
    public record Pick(int task, String name, double[] meanCosines, int modules) {

        /** The picked task's mean cosine similarity. */
        public double meanCosine() {
            return meanCosines[task];
        }
    }

    private final LlamaGraph graph;
    private final List<String> tasks;
    private final double temperature;
    private final String[] similarities; // M variable names, each [1, tasks]

    /**
     * @throws MorException when the adapter is not MoRE
     */
    public TaskPicker(LlamaWeights weights, LlamaAdapters adapters) {
        this.tasks = MoreTasks.names(adapters);
        this.temperature = adapters.config().taskTemperatureOrDefault();
        this.graph = adapters.graph(weights, GraphKind.INFERENCE);
        this.similarities = graph.adapterContext().taskSimilarities().values().toArray(new String[0]);
    }

    /**
     * Picks the task of one prompt.
     *
     * @param promptIds the prompt's token ids, BOS included, at most {@code max_position_embeddings}
     */
    public Pick pick(int[] promptIds) {
        if (promptIds.length == 0) {
            throw new MorException("the prompt has no token: there is nothing to compare with the tasks");
        }
        long[][] ids = {Arrays.stream(promptIds).asLongStream().toArray()}; // [1, T]
        Batch batch = new Batch(ids, null, null, new long[] {NO_TASK});
        Map<String, INDArray> feeds = graph.feeds(batch, LlamaFeeds.Reduction.MEAN);
        Map<String, INDArray> out = SessionMemory.output(graph.sd(), feeds, similarities);
        double[] mean = new double[tasks.size()]; // [tasks]
        for (String name : similarities) {
            INDArray s = out.get(name); // [1, tasks]
            for (int t = 0; t < mean.length; t++) {
                mean[t] += s.getDouble(0, t) * temperature / similarities.length;
            }
        }
        int best = 0;
        for (int t = 1; t < mean.length; t++) {
            if (mean[t] > mean[best]) {
                best = t;
            }
        }
        return new Pick(best, tasks.get(best), mean, similarities.length);
    }

    /** A selection that picks each prompt's task and tells {@code onPick} (null: nobody). */
    public TaskSelection selection(Consumer<Pick> onPick) {
        return promptIds -> {
            Pick p = pick(promptIds);
            if (onPick != null) {
                onPick.accept(p);
            }
            return p.task();
        };
    }

    /** The task names, in task-id order. */
    public List<String> tasks() {
        return tasks;
    }
}
