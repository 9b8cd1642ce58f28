package dev.mor4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MemoryPeak;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.LlamaWeights;
import dev.mor4j.llama.train.MemoryPlan;
import dev.mor4j.llama.train.Recompute;
import dev.mor4j.llama.train.TrainingData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Real (non-padding) tokens per second of fine-tuning steps on a Tulu-shaped workload ({@link TuluWorkload}),
 * with the same examples batched each way of {@link TuluBatching}: padded as transformers pads, grouped by
 * length, packed (these three with the loss's LM head at every position, as transformers computes the logits), and
 * packed with the LM head only at labelled positions (as training runs).
 * MoR N 8, r 8 (α 32, no dropout) on gate/up/down of a random model ({@link RandomLlama}): 2 layers at
 * LLaMA-2-7B width by default.
 *
 * <p>The workload has {@code steps · batch} examples: one epoch, so every variant trains on every example once
 * ({@link TrainingData}'s order for the run's seed; group-by-length reorders them into batches of similar length).
 * All variants share one training setup ({@link BatchedTrainingStep}) and run interleaved ({@link Interleaved}):
 * each round runs one step of each, in a rotating order; after {@code warmup} untimed rounds the {@code steps}
 * timed rounds cover each variant's batches once. A variant's real tokens per second is its real tokens over
 * the sum of its steps' times. Activations are recomputed layer by layer when the {@link MemoryPlan} of
 * {@code batch × max-len} says the run would not fit otherwise ({@code --recompute auto}), for every variant alike.
 *
 * <p>Usage: {@code TuluTrainingRun [--model 7b|tiny] [--layers 2] [--batch 8] [--max-len 1024] [--steps 3]
 * [--warmup 1] [--variants padded,group-by-length,packing,packed_label_only] [--recompute auto|on|off]
 * [--seed 42] [--testdata testdata] [--workload FILE.json] [--workload-only] [--out FILE.json]}. With
 * {@code --workload} the examples and the padded and grouped batches are written for the PyTorch peer
 * ({@code mor-bench/peer/pytorch_tulu_step.py}); {@code --workload-only} stops there. The result is printed as a
 * table and as one line {@code RESULT <json>}.
 */
public final class TuluTrainingRun {

    private TuluTrainingRun() {
    }

    /** The run's settings. */
    record Settings(String model, int layers, int batch, int maxLen, int steps, int warmup, List<TuluBatching> variants,
            Recompute recompute, long seed, Path testdata, Path workload, boolean workloadOnly, Path out) {

        static Settings parse(String[] args) {
            Map<String, String> o = new java.util.LinkedHashMap<>();
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals("--workload-only")) {
                    o.put("workload-only", "true");
                } else if (args[i].startsWith("--") && i + 1 < args.length) {
                    o.put(args[i].substring(2), args[++i]);
                } else {
                    throw new IllegalArgumentException("unexpected argument " + args[i] + " (see the usage in the Javadoc)");
                }
            }
            List<TuluBatching> variants = new ArrayList<>();
            for (String v : o.getOrDefault("variants", "padded,group-by-length,packing,packed_label_only").split(",")) {
                variants.add(TuluBatching.parse(v.trim()));
            }
            String model = o.getOrDefault("model", "7b");
            if (!model.equals("7b") && !model.equals("tiny")) {
                throw new IllegalArgumentException("--model is " + model + "; expected 7b or tiny");
            }
            return new Settings(model, Integer.parseInt(o.getOrDefault("layers", "2")),
                    Integer.parseInt(o.getOrDefault("batch", "8")), Integer.parseInt(o.getOrDefault("max-len", "1024")),
                    Integer.parseInt(o.getOrDefault("steps", "3")), Integer.parseInt(o.getOrDefault("warmup", "1")),
                    variants, Recompute.parse(o.getOrDefault("recompute", "auto")),
                    Long.parseLong(o.getOrDefault("seed", "42")), Path.of(o.getOrDefault("testdata", "testdata")),
                    o.containsKey("workload") ? Path.of(o.get("workload")) : null, o.containsKey("workload-only"),
                    o.containsKey("out") ? Path.of(o.get("out")) : null);
        }

        LlamaConfig config() {
            return model.equals("tiny") ? RandomLlama.tiny(layers) : RandomLlama.llama2_7bWidth(layers);
        }
    }

    public static void main(String[] args) throws IOException {
        Settings s = Settings.parse(args);
        ObjectNode result = run(s);
        if (result != null) {
            System.out.println("RESULT " + result);
        }
        System.exit(0);
    }

    /** Runs the measurement in this process; null when only the workload was asked for. */
    static ObjectNode run(Settings s) throws IOException {
        LlamaConfig config = s.config();
        TuluWorkload workload = TuluWorkload.of(TuluWorkload.sampleShapes(s.testdata()), s.steps() * s.batch(),
                s.maxLen(), config.vocabSize(), s.seed());
        System.out.printf(Locale.ROOT, "workload: %d examples, %,d tokens (%.1f per example), %.1f %% labelled, lengths"
                + " ×%.3f from the bundled Tulu sample, max %d%n", workload.examples().size(), workload.tokens(),
                workload.tokens() / (double) workload.examples().size(), 100.0 * workload.labelled() / workload.tokens(),
                workload.scale(), s.maxLen());
        Map<TuluBatching, List<Batch>> batches = new EnumMap<>(TuluBatching.class);
        for (TuluBatching b : TuluBatching.values()) {
            TrainingData data = b.data(workload.examples(), s.batch(), s.seed());
            List<Batch> list = new ArrayList<>();
            for (int k = 0; k < data.batchesPerEpoch(); k++) {
                list.add(data.microBatch(k, 0).batch());
            }
            batches.put(b, list);
        }
        if (s.workload() != null) {
            writeWorkload(s, config, workload);
        }
        if (s.workloadOnly()) {
            return null;
        }
        LlamaWeights weights = RandomLlama.weights(config, s.seed());
        var adapter = Variant.MOR_EXPANDED.config(List.of("gate_proj", "up_proj", "down_proj"));
        long trainable = dev.mor4j.llama.adapter.LlamaAdapters.create(weights, adapter, s.seed()).trainableParameters();
        MemoryPlan plan = MemoryPlan.of(weights, trainable, s.batch(), s.maxLen());
        boolean recompute = switch (s.recompute()) {
            case ON -> true;
            case OFF -> false;
            case AUTO -> !plan.fits(false);
        };
        System.out.println(plan.format(recompute));
        if (!plan.fits(recompute)) {
            throw new IllegalStateException("batch " + s.batch() + " × " + s.maxLen() + " will not fit: the memory plan"
                    + " needs " + gb(plan.peak(recompute)) + " " + (recompute ? "with" : "without")
                    + " recomputation, the limit is " + gb(plan.limitBytes()) + " (" + plan.limitSource()
                    + "); raise -Dorg.bytedeco.javacpp.maxbytes/maxphysicalbytes on a machine with the memory,"
                    + " use --recompute auto, or run fewer rows (--batch) or shorter ones (--max-len)");
        }
        BatchedTrainingStep step = new BatchedTrainingStep(weights, adapter, recompute, s.seed());
        Interleaved timing = new Interleaved();
        Map<TuluBatching, int[]> calls = new EnumMap<>(TuluBatching.class);
        for (TuluBatching b : s.variants()) {
            List<Batch> list = batches.get(b);
            int[] count = new int[1];
            calls.put(b, count);
            timing.add(b.label(), () -> {
                long start = System.nanoTime();
                int k = count[0]++ % list.size();
                step.step(list.get(k), b.labelOnlyHead());
                // progress on stderr: a run of this size takes most of an hour
                System.err.printf(Locale.ROOT, "%s batch %d: %.1f s%n", b.label(), k, (System.nanoTime() - start) / 1e9);
            });
        }
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        try (MemoryPeak peak = new MemoryPeak()) {
            timing.run(s.warmup(), s.steps());
            o.put("peak_physical_bytes", peak.physicalBytes());
        }
        return TuluReport.of(s, workload, batches, timing, recompute, trainable, o);
    }

    private static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }

    /** The examples, model shape and the padded and grouped batches' example indices, for the PyTorch peer. */
    private static void writeWorkload(Settings s, LlamaConfig c, TuluWorkload workload) throws IOException {
        ObjectNode w = workload.json();
        ObjectNode m = w.putObject("model");
        m.put("hidden", c.hiddenSize());
        m.put("intermediate", c.intermediateSize());
        m.put("heads", c.numAttentionHeads());
        m.put("head_dim", c.headDim());
        m.put("vocab", c.vocabSize());
        m.put("layers", c.numHiddenLayers());
        ObjectNode orders = w.putObject("batches");
        for (TuluBatching b : List.of(TuluBatching.PADDED, TuluBatching.GROUP_BY_LENGTH)) {
            TrainingData data = b.data(workload.examples(), s.batch(), s.seed());
            ArrayNode list = orders.putArray(b.label());
            for (int k = 0; k < data.batchesPerEpoch(); k++) {
                ArrayNode idx = list.addArray();
                for (int i : data.order().batch(0, k)) {
                    idx.add(i);
                }
            }
        }
        w.put("date", LocalDate.now().toString());
        if (s.workload().getParent() != null) {
            Files.createDirectories(s.workload().getParent());
        }
        new ObjectMapper().writeValue(s.workload().toFile(), w);
        System.out.println("workload written to " + s.workload());
    }
}
