package dev.mor4j.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.train.StepMetrics;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.core.train.TrainListener;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.train.FineTuneOptions;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.Recompute;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The measurements of docs/distributed.md ("Benchmark").
 *
 * <pre>
 * SparkBench --traffic [--micro-batch-seconds T --grad-accum n --gbit 10]
 *     the adapters' sizes and bytes per step on LLaMA-2-7B and LLaMA-3-8B shapes ({@link TrafficModel}), and with a
 *     measured micro-batch time the modelled step time on N = 1 … 16 machines
 * SparkBench --model DIR [--master local[2] --partitions 2] [--method mor|lora] [--batch 1] [--len 128]
 *            [--grad-accum 2] [--steps 3] [--warmup 1] [--recompute auto|on|off]
 *     times optimizer steps of random sequences on a model directory (e.g. bench/random-checkpoints --layers 2),
 *     in this process without --master, else on Spark; prints each step's seconds and one JSON line
 * </pre>
 */
public final class SparkBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    private SparkBench() {
    }

    public static void main(String[] args) {
        try {
            Map<String, String> a = options(args);
            if (a.containsKey("traffic")) {
                traffic(a);
            } else {
                steps(a);
            }
        } catch (MorException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        }
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + args[i] + "'; see SparkBench's Javadoc");
            }
            String key = args[i].substring(2);
            boolean flag = i + 1 >= args.length || args[i + 1].startsWith("--");
            out.put(key, flag ? "" : args[++i]);
        }
        return out;
    }

    private static void traffic(Map<String, String> a) {
        int n = Integer.parseInt(a.getOrDefault("grad-accum", "16"));
        double bandwidth = Double.parseDouble(a.getOrDefault("gbit", "10")) * 1e9 / 8;
        String tmb = a.get("micro-batch-seconds");
        int[] machines = {1, 2, 4, 8, 16};
        System.out.println("| shape | adapter | parameters P | S = 4·P | bytes per step at N = 2 / 4 / 8 / 16 |");
        System.out.println("|---|---|---:|---:|---|");
        for (TrafficModel.Shape shape : List.of(TrafficModel.Shape.llama2_7b(), TrafficModel.Shape.llama3_8b())) {
            for (Map.Entry<String, AdapterConfig> e : TrafficModel.tableAdapters().entrySet()) {
                long p = TrafficModel.parameters(e.getValue(), shape);
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %s | %s | %,d | %.1f MB | ",
                        shape.name(), e.getKey(), p, 4.0 * p / 1e6));
                for (int i = 1; i < machines.length; i++) {
                    row.append(String.format(Locale.ROOT, "%s%.2f GB", i > 1 ? " / " : "",
                            TrafficModel.bytesPerStep(p, machines[i]) / 1e9));
                }
                System.out.println(row.append(" |"));
                if (tmb != null) {
                    StringBuilder model = new StringBuilder("    t_step(N) for N = 1 / 2 / 4 / 8 / 16: ");
                    for (int m : machines) {
                        double t = TrafficModel.stepSeconds(Double.parseDouble(tmb), n, p, m, bandwidth);
                        model.append(String.format(Locale.ROOT, "%.1f s (×%.2f)  ", t,
                                TrafficModel.stepSeconds(Double.parseDouble(tmb), n, p, 1, bandwidth) / t));
                    }
                    System.out.println(model);
                }
            }
        }
    }

    private static void steps(Map<String, String> a) {
        if (!a.containsKey("model")) {
            throw new IllegalArgumentException("--model DIR is needed (or --traffic)");
        }
        int batch = Integer.parseInt(a.getOrDefault("batch", "1"));
        int len = Integer.parseInt(a.getOrDefault("len", "128"));
        int n = Integer.parseInt(a.getOrDefault("grad-accum", "2"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "3"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "1"));
        String method = a.getOrDefault("method", "mor");
        AdapterConfig adapter = switch (method) {
            case "mor" -> AdapterConfig.morDefaults();
            case "lora" -> TrafficModel.lora(8, List.of("gate_proj", "up_proj", "down_proj"));
            default -> throw new IllegalArgumentException("--method is '" + method + "'; expected mor or lora");
        };
        LlamaModel model = LlamaModel.load(Path.of(a.get("model")));
        List<EncodedExample> examples = randomExamples(batch * n, len, model.config().vocabSize());
        TrainConfig cfg = TrainConfig.builder().learningRate(1e-4).maxSteps(warmup + steps).gradientAccumulationSteps(n)
                .warmupRatio(0).seed(1).saveSteps(0).build();
        List<Double> seconds = new ArrayList<>();
        TrainListener timer = new TrainListener() {
            private double last;

            @Override
            public void onStep(StepMetrics m) {
                seconds.add(m.elapsedSeconds() - last);
                last = m.elapsedSeconds();
                System.err.printf(Locale.ROOT, "step %d: %.2f s, loss %.4f%n", m.step(),
                        seconds.get(seconds.size() - 1), m.loss());
            }
        };
        String master = a.get("master");
        int partitions = Integer.parseInt(a.getOrDefault("partitions", "0"));
        SparkBackend spark = master == null ? null : new SparkBackend(master, partitions);
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream())); // SameDiff prints a line per gradient op
        try {
            LlamaFineTune ft = LlamaFineTune.builder(model, LlamaAdapters.create(model.weights(), adapter, 1), examples)
                    .trainConfig(cfg).options(FineTuneOptions.defaults().withBatchSize(batch)).messages(m -> { })
                    .recompute(Recompute.parse(a.getOrDefault("recompute", "auto"))).listener(timer).backend(spark)
                    .build();
            ft.train();
            List<Double> measured = seconds.subList(warmup, seconds.size());
            double mean = measured.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            ObjectNode r = JSON.createObjectNode();
            r.put("model", a.get("model"));
            r.put("method", method);
            r.put("master", master == null ? "none (this process)" : master);
            r.put("partitions", spark == null ? 0 : spark.partitions());
            r.put("batch", batch);
            r.put("len", len);
            r.put("grad_accum", n);
            r.put("omp_num_threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"));
            r.put("trainable_parameters", ft.adapters().trainableParameters());
            r.putPOJO("step_seconds", measured);
            r.put("mean_step_seconds", mean);
            r.put("tokens_per_second", batch * (double) len * n / mean);
            if (spark != null) {
                r.put("bytes_per_step", spark.traffic().bytesPerStep());
                r.put("broadcast_bytes_per_step", spark.traffic().broadcastBytesPerStep());
                r.put("result_bytes_per_step", spark.traffic().resultBytesPerStep());
                System.err.println(spark.summary().get(0));
            }
            stdout.println(r);
        } finally {
            System.setOut(stdout);
            if (spark != null) {
                spark.close();
            }
        }
    }

    /** {@code count} sequences of {@code len} random tokens (BOS first), every position a label. */
    private static List<EncodedExample> randomExamples(int count, int len, int vocab) {
        Random rng = new Random(3);
        List<EncodedExample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] ids = new int[len];
            ids[0] = 1;
            for (int j = 1; j < len; j++) {
                ids[j] = 3 + rng.nextInt(vocab - 3);
            }
            out.add(new EncodedExample("random-" + i, "random", ids, Arrays.copyOf(ids, len)));
        }
        return out;
    }
}
