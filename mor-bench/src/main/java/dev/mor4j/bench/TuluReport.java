package dev.mor4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.llama.model.Batch;
import java.io.IOException;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report of a {@link TuluTrainingRun}: per batching variant, the real tokens, the positions computed
 * (padding included) and the time of its timed steps, and real tokens per second = real tokens / seconds; printed
 * as a table and returned as JSON (also written to {@code --out}).
 */
final class TuluReport {

    private TuluReport() {
    }

    /**
     * @param batches each variant's batches, one epoch; the timed call {@code r} of a variant ran batch
     *                {@code (warmup + r) mod n}
     * @param o       the JSON to fill (already holding the peak memory)
     */
    static ObjectNode of(TuluTrainingRun.Settings s, TuluWorkload workload, Map<TuluBatching, List<Batch>> batches,
            Interleaved timing, boolean recompute, long trainable, ObjectNode o) throws IOException {
        o.put("date", LocalDate.now().toString());
        o.put("cpu", MachineInfo.cpuModel());
        o.put("load_average_1min", MachineInfo.loadAverage());
        o.put("model", s.model().equals("tiny") ? "tiny random (hidden 64)" : "random, LLaMA-2-7B width");
        o.put("layers", s.layers());
        o.put("adapter", "MoR N 8, r 8, alpha 32 on gate/up/down, dropout 0");
        o.put("trainable_parameters", trainable);
        o.put("batch", s.batch());
        o.put("max_len", s.maxLen());
        o.put("steps", s.steps());
        o.put("warmup", s.warmup());
        o.put("recompute", recompute);
        o.put("seed", s.seed());
        ObjectNode w = o.putObject("workload");
        w.put("examples", workload.examples().size());
        w.put("tokens", workload.tokens());
        w.put("labelled", workload.labelled());
        w.put("scale", workload.scale());
        w.put("source", TuluWorkload.SAMPLE + " shapes stretched to max_len (see TuluWorkload)");
        ObjectNode variants = o.putObject("variants");
        System.out.printf("%-28s %14s %12s %10s %9s %16s%n", "batching", "real tokens/s", "s per step", "rows/step",
                "padding", "vs padded");
        double paddedRate = Double.NaN;
        for (TuluBatching b : s.variants()) {
            List<Batch> list = batches.get(b);
            double[] millis = timing.millis(b.label());
            long real = 0;
            long positions = 0;
            long rows = 0;
            double seconds = 0;
            for (int r = 0; r < millis.length; r++) {
                Batch batch = list.get((s.warmup() + r) % list.size());
                real += batch.tokenCount();
                positions += (long) batch.batchSize() * batch.seqLen();
                rows += batch.batchSize();
                seconds += millis[r] / 1e3;
            }
            double rate = real / seconds;
            if (b == TuluBatching.PADDED) {
                paddedRate = rate;
            }
            ObjectNode v = variants.putObject(b.label());
            v.put("real_tokens", real);
            v.put("positions", positions);
            v.put("rows", rows);
            v.put("padding_fraction", 1.0 - (double) real / positions);
            v.put("seconds", seconds);
            v.put("real_tokens_per_second", rate);
            v.set("step_ms", TrainingRun.stats(timing.stats(b.label())));
            v.put("label_only_head_requested", b.labelOnlyHead());
            v.put("label_only_head_in_effect", b.labelOnlyHead() && TuluBatching.LABEL_ONLY_HEAD_AVAILABLE);
            System.out.printf(Locale.ROOT, "%-28s %14.1f %12.1f %10.1f %8.1f%% %16s%n",
                    b.label() + (b.labelOnlyHead() && !TuluBatching.LABEL_ONLY_HEAD_AVAILABLE ? " *" : ""), rate,
                    seconds / millis.length, rows / (double) millis.length, 100.0 * (positions - real) / positions,
                    Double.isNaN(paddedRate) ? "" : String.format(Locale.ROOT, "%.2f×", rate / paddedRate));
        }
        if (s.variants().contains(TuluBatching.PACKED_LABEL_ONLY) && !TuluBatching.LABEL_ONLY_HEAD_AVAILABLE) {
            System.out.println("* the label-only head is not in this build: this row runs the full head (= packing)");
        }
        if (s.out() != null) {
            if (s.out().getParent() != null) {
                java.nio.file.Files.createDirectories(s.out().getParent());
            }
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(s.out().toFile(), o);
        }
        return o;
    }
}
