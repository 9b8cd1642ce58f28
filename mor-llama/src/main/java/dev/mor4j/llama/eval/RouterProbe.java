package dev.mor4j.llama.eval;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.MorException;
import dev.mor4j.core.nn.SessionMemory;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaGraph;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The router weights a mixture adapter (MoR, MoE-LoRA) gives to prompts, per task: for each prompt the mean of its
 * real tokens' router weights {@code g(x) [N]} in every adapted module, then the mean of those per-prompt means over
 * the prompts of each task (every prompt counts once, whatever its length). This is the quantity of the MoR paper's
 * Fig. 7 measured at evaluation time, where {@link dev.mor4j.llama.train.RouterStats} counts it over the training
 * tokens. The prompts run through an inference graph of the adapters ({@code GraphKind.INFERENCE}), right-padded
 * {@code batchSize} at a time; padding never reaches a real token's router weights.
 */
public final class RouterProbe {

    private static final long PAD_ID = 0;

    /**
     * Mean router weights per task.
     *
     * @param modules the adapted modules (PEFT prefixes), in graph order
     * @param experts N, the experts of every module
     * @param tasks   the tasks, in order of first appearance
     * @param prompts {@code [tasks]} the prompts of each task
     * @param weights {@code [tasks][modules][N]}: the mean over a task's prompts of each prompt's mean router weight
     *                (each row sums to 1)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TaskWeights(List<String> modules, int experts, List<String> tasks, int[] prompts,
            double[][][] weights) {

        /** The weights of one task, {@code [modules][N]}. */
        public double[][] of(String task) {
            int t = tasks.indexOf(task);
            if (t < 0) {
                throw new MorException("no router weights for task '" + task + "'; measured: " + tasks);
            }
            return weights[t];
        }
    }

    private RouterProbe() {
    }

    /** Whether the graph's adapters have routers (MoR, MoE-LoRA) whose weights can be measured. */
    public static boolean hasRouters(LlamaGraph graph) {
        return !graph.adapterContext().routerOutputs().isEmpty();
    }

    /**
     * Runs every prompt and averages its router weights per task.
     *
     * @param graph       an inference graph (no loss) of adapters with routers and without per-example tasks
     * @param promptIds   the prompts' token ids, BOS included, each at most the model's positions long
     * @param promptTasks the task of each prompt
     * @param batchSize   prompts per forward pass
     * @throws MorException when the graph has no routers, adapts per example (MoRE) or has a loss, or the lists differ
     *                      in length
     */
    public static TaskWeights measure(LlamaGraph graph, List<int[]> promptIds, List<String> promptTasks,
            int batchSize) {
        if (!hasRouters(graph)) {
            throw new MorException("the adapters have no router to measure (only MoR and MoE-LoRA have one)");
        }
        if (graph.taskCount() > 0 || graph.hasLoss()) {
            throw new MorException("router weights are measured on an inference graph of adapters without tasks");
        }
        if (promptIds.size() != promptTasks.size() || promptIds.isEmpty()) {
            throw new MorException("expected one task per prompt and at least one prompt; got " + promptIds.size()
                    + " prompts and " + promptTasks.size() + " tasks");
        }
        List<String> modules = new ArrayList<>(graph.adapterContext().routerOutputs().keySet());
        String[] outputs = graph.adapterContext().routerOutputs().values().toArray(new String[0]);
        Map<String, Integer> taskIndex = new LinkedHashMap<>();
        promptTasks.forEach(t -> taskIndex.putIfAbsent(t, taskIndex.size()));
        double[][][] sums = null; // [tasks][modules][N], allocated once N is known
        int[] counts = new int[taskIndex.size()]; // [tasks]
        int experts = 0;
        for (int start = 0; start < promptIds.size(); start += batchSize) {
            List<int[]> chunk = promptIds.subList(start, Math.min(promptIds.size(), start + batchSize));
            Batch batch = rightPadded(chunk);
            Map<String, INDArray> out = SessionMemory.output(graph.sd(),
                    graph.feeds(batch, LlamaFeeds.Reduction.MEAN), outputs);
            int t = batch.seqLen();
            for (int m = 0; m < outputs.length; m++) {
                INDArray w = out.get(outputs[m]); // [B·T, N]
                if (sums == null) {
                    experts = (int) w.size(1);
                    sums = new double[taskIndex.size()][modules.size()][experts];
                }
                if (w.rank() != 2 || w.size(0) != (long) chunk.size() * t || w.size(1) != experts) {
                    throw new MorException(modules.get(m) + ": router weights have shape " + Arrays.toString(w.shape())
                            + "; expected [" + (long) chunk.size() * t + ", " + experts + "]");
                }
                double[] v = w.castTo(DataType.DOUBLE).dup('c').data().asDouble(); // [B·T·N]
                for (int r = 0; r < chunk.size(); r++) {
                    int len = chunk.get(r).length;
                    double[] dst = sums[taskIndex.get(promptTasks.get(start + r))][m];
                    for (int e = 0; e < experts; e++) {
                        double s = 0;
                        for (int j = 0; j < len; j++) {
                            s += v[(r * t + j) * experts + e];
                        }
                        dst[e] += s / len;
                    }
                }
            }
            for (int r = 0; r < chunk.size(); r++) {
                counts[taskIndex.get(promptTasks.get(start + r))]++;
            }
        }
        for (int k = 0; k < counts.length; k++) {
            for (double[] row : sums[k]) {
                for (int e = 0; e < row.length; e++) {
                    row[e] /= counts[k];
                }
            }
        }
        return new TaskWeights(modules, experts, new ArrayList<>(taskIndex.keySet()), counts, sums);
    }

    /** The prompts right-padded into one batch {@code [B, T_max]}, without labels. */
    private static Batch rightPadded(List<int[]> prompts) {
        int t = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        if (prompts.stream().anyMatch(p -> p.length == 0)) {
            throw new MorException("a prompt has no tokens; expected at least BOS");
        }
        long[][] ids = new long[prompts.size()][t]; // [B, T]
        long[][] mask = new long[prompts.size()][t]; // [B, T]
        for (int r = 0; r < prompts.size(); r++) {
            Arrays.fill(ids[r], PAD_ID);
            for (int j = 0; j < prompts.get(r).length; j++) {
                ids[r][j] = prompts.get(r)[j];
                mask[r][j] = 1;
            }
        }
        return new Batch(ids, mask, null);
    }
}
