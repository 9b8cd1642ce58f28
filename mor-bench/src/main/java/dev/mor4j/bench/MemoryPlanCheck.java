package dev.mor4j.bench;

import dev.mor4j.core.MemoryPeak;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.train.FineTuneOptions;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.MemoryPlan;
import dev.mor4j.llama.train.Recompute;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The memory plan's estimate against the measured peak: fine-tunes MoR (N 8, r 8 on gate/up/down) on a model
 * directory for a few steps of random full-length examples (the second half of each labelled) and prints the
 * plan's peak next to the measured peak of the resident memory.
 *
 * <pre>{@code java -cp ... dev.mor4j.bench.MemoryPlanCheck MODEL_DIR LENGTH BATCH on|off|auto [STEPS]}</pre>
 *
 * Run one configuration per process: arrays freed by one run stay in the process's allocator.
 */
public final class MemoryPlanCheck {

    private MemoryPlanCheck() {
    }

    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: MemoryPlanCheck MODEL_DIR LENGTH BATCH on|off|auto [STEPS]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int length = Integer.parseInt(args[1]);
        int batch = Integer.parseInt(args[2]);
        Recompute recompute = Recompute.parse(args[3]);
        int steps = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        long t0 = System.nanoTime();
        LlamaModel model = LlamaModel.load(dir);
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        LlamaConfig c = model.config();
        List<EncodedExample> examples = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < batch * steps; i++) {
            int[] ids = new int[length];
            int[] labels = new int[length];
            for (int t = 0; t < length; t++) {
                ids[t] = rng.nextInt(c.vocabSize());
                labels[t] = t < length / 2 ? -100 : ids[t];
            }
            examples.add(new EncodedExample("r" + i, "random", ids, labels));
        }
        LlamaAdapters mor = LlamaAdapters.create(model.weights(), AdapterConfig.morDefaults(), 42);
        LlamaFineTune ft = LlamaFineTune.builder(model, mor, examples)
                .trainConfig(TrainConfig.builder().learningRate(2e-4).maxSteps(steps).seed(42).build())
                .options(FineTuneOptions.defaults().withBatchSize(batch)).recompute(recompute).build();
        MemoryPlan plan = ft.memoryPlan();
        long t1 = System.nanoTime();
        long resident;
        try (MemoryPeak peak = new MemoryPeak()) {
            ft.train();
            resident = peak.physicalBytes();
        }
        double stepSeconds = (System.nanoTime() - t1) / 1e9 / steps;
        System.out.printf(Locale.ROOT, "%s: layers %d, length %d, batch %d, recompute %s: load %.1f s, %.1f s per step"
                + " (%.1f tokens/s); plan %.2f GB (weights %.2f, adapters %.2f, activations %.2f, JVM %.2f); measured"
                + " resident %.2f GB%n", dir, c.numHiddenLayers(), length, batch, ft.recomputing() ? "on" : "off",
                loadSeconds, stepSeconds, batch * length / stepSeconds, plan.peak(ft.recomputing()) / 1e9,
                plan.weightBytes() / 1e9, plan.adapterBytes() / 1e9,
                (ft.recomputing() ? plan.recomputeBytes() : plan.activationBytes()) / 1e9, plan.jvmBytes() / 1e9,
                resident / 1e9);
    }
}
