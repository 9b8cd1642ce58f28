package dev.mor4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.llama.train.FineTuneResult;
import dev.mor4j.llama.train.FullCheckpoint;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.RankSelection;
import dev.mor4j.llama.train.RouterStats;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What {@code mor finetune} records about a run: the run's {@code config.json} (settings, adapter and training
 * config, method, tasks and data counts) and the summary printed to standard output when it ends.
 */
final class FinetuneReport {

    private static final ObjectMapper JSON = new ObjectMapper();

    private FinetuneReport() {
    }

    /**
     * The content of the run's {@code config.json}: {@code run}, {@code method}, {@code settings} (one field per flag,
     * read back by {@code --resume}), {@code adapter}, {@code train}, {@code options}, the data counts and, for
     * MoRE, {@code tasks} (in task-id order) and {@code examples_per_task}.
     */
    static ObjectNode config(FinetuneSettings s, LlamaFineTune ft, FinetuneData data, Path resumedFrom) {
        ObjectNode n = JSON.createObjectNode();
        n.put("run", RunDirectory.KIND);
        n.put("method", s.method());
        if (data.tasks() != null) {
            n.set("tasks", JSON.valueToTree(data.tasks().names()));
            n.set("examples_per_task", JSON.valueToTree(data.examplesPerTask()));
        }
        n.set("settings", JSON.valueToTree(s));
        if (ft.adapters() != null) {
            n.set("adapter", JSON.valueToTree(ft.adapters().config()));
        } else {
            ObjectNode full = n.putObject("full_fine_tuning");
            full.put("trained", "every base weight, in float32");
            full.put("final_model", LlamaFineTune.FINAL_MODEL);
            full.put("saved_dtype", FullCheckpoint.DTYPE.torchName());
        }
        n.set("train", JSON.valueToTree(ft.config()));
        n.set("options", JSON.valueToTree(ft.options()));
        n.put("examples", data.examples().size());
        n.put("batches_per_epoch", ft.data().batchesPerEpoch());
        n.put("trainable_parameters", ft.parameterCount().trainable());
        n.put("all_parameters", ft.parameterCount().all());
        if (resumedFrom != null) {
            n.put("resumed_from", resumedFrom.toAbsolutePath().normalize().toString());
        }
        return n;
    }

    /**
     * Prints where the run is, its steps and tokens, the loss of its first and last steps, the plots and, for MoRE, the rank
     * each task chose in each module.
     *
     * @param ranks  MoRE's rank selection, or null
     * @param packed whether micro-batches were packed
     * @param full   whether the run was a full fine-tuning (its result is a model, not an adapter)
     */
    static void printSummary(Path outDir, FineTuneResult r, List<Path> plots, RankSelection ranks, boolean packed,
            boolean full) {
        PrintStream o = System.out;
        o.println("output: " + outDir);
        o.println((full ? "model: " : "adapter: ") + r.adapter());
        o.println("steps: " + r.globalStep() + " (" + r.steps().size() + " in this run)");
        o.println("tokens: " + r.tokens().format() + (packed ? ", packed" : ", padded"));
        int n = Math.min(5, r.steps().size() / 2);
        if (n > 0) {
            o.printf(Locale.ROOT, "loss: %.4f -> %.4f (mean of the first and last %d steps of this run)%n",
                    r.meanLossOfFirst(n), r.meanLossOfLast(n), n);
        }
        if (ranks != null) {
            o.println("rank chosen by each task (row) in each module (layer.projection); the selector's probabilities"
                    + " are in " + RouterStats.FILE + ":");
            o.print(ranks.table());
        }
        o.println("plots: " + plots.stream().map(Path::toString).collect(Collectors.joining(", ")));
        o.flush();
    }
}
