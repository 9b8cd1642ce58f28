package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.train.CheckpointStore;
import dev.mor4j.core.train.LrSchedulerType;
import dev.mor4j.core.train.MetricsLog;
import dev.mor4j.core.train.StepMetrics;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class LlamaFineTuneTest {

    private static final List<EncodedExample> SAMPLE = TrainFixtures.sample(256);

    private static LlamaModel model() {
        return TrainFixtures.model();
    }

    @Test
    void thirtyStepsOnTheSampleLowerTheLoss() {
        LlamaAdapters mor = LlamaAdapters.create(model().weights(), TrainFixtures.mor(0.05), 42);
        TrainConfig cfg = TrainConfig.builder().learningRate(1e-2).maxSteps(30).seed(42).build();
        List<String> messages = new ArrayList<>();
        LlamaFineTune ft = LlamaFineTune.builder(model(), mor, SAMPLE).trainConfig(cfg).messages(messages::add).build();
        long t0 = System.nanoTime();
        FineTuneResult r = ft.train();
        double seconds = (System.nanoTime() - t0) / 1e9;
        double first = r.meanLossOfFirst(5);
        double last = r.meanLossOfLast(5);
        System.out.printf("30 MoR steps on the Tulu sample (batch 4, lr 1e-2): mean loss of steps 1-5 %.4f, of steps"
                + " 26-30 %.4f (drop %.4f) in %.1f s%n", first, last, first - last, seconds);
        assertEquals(30, r.steps().size());
        assertEquals(30, r.globalStep());
        assertTrue(r.steps().stream().noneMatch(StepMetrics::skipped));
        assertTrue(first - last > 1.0, "loss " + first + " -> " + last);
        assertEquals("trainable params: 11,904 || all params: 2,083,104 || trainable%: 0.5715", messages.get(0));

        RouterStats stats = ft.routerStats();
        assertEquals(6, stats.modules().size(), "gate/up/down of 2 layers");
        assertEquals(new TreeSet<>(SAMPLE.stream().map(EncodedExample::dataset).toList()),
                new TreeSet<>(stats.datasetNames()));
        long counted = stats.datasetNames().stream().mapToLong(stats::tokens).sum();
        assertEquals(r.steps().stream().mapToLong(StepMetrics::tokens).sum(), counted, "every real token, no padding");
        for (String d : stats.datasetNames()) {
            for (double[] row : stats.mean(d)) {
                double sum = 0;
                for (double v : row) {
                    assertTrue(v > 0 && v < 1);
                    sum += v;
                }
                assertEquals(1.0, sum, 1e-6, d);
            }
        }
    }

    @Test
    void packedMicroBatchesTrainAsPaddedOnesDo() {
        TrainConfig cfg = TrainConfig.builder().learningRate(1e-2).maxSteps(2).gradientAccumulationSteps(2).seed(3)
                .build();
        FineTuneOptions options = FineTuneOptions.defaults().withBatchSize(5);
        List<double[]> losses = new ArrayList<>();
        List<FineTuneResult.Tokens> tokens = new ArrayList<>();
        List<Map<String, INDArray>> weights = new ArrayList<>();
        for (boolean packing : new boolean[] {false, true, true}) {
            Recompute recompute = tokens.size() == 2 ? Recompute.ON : Recompute.OFF;
            LlamaAdapters mor = LlamaAdapters.create(model().weights(), TrainFixtures.mor(0.0), 8);
            List<String> messages = new ArrayList<>();
            LlamaFineTune ft = LlamaFineTune.builder(model(), mor, SAMPLE).trainConfig(cfg).options(options)
                    .packing(packing).recompute(recompute).messages(messages::add).build();
            FineTuneResult r = ft.train();
            assertTrue(messages.contains(packing ? "micro-batches: 5 examples each, packed into rows of at most "
                    + ft.data().rowLength() + " tokens"
                    : "micro-batches: 5 examples each, right-padded to the longest, one example per row"), messages.toString());
            losses.add(r.steps().stream().mapToDouble(StepMetrics::loss).toArray());
            tokens.add(r.tokens());
            weights.add(mor.weights());
        }
        FineTuneResult.Tokens padded = tokens.get(0);
        FineTuneResult.Tokens packed = tokens.get(1);
        System.out.println("2 steps of 2 micro-batches of up to 5 examples, padded: " + padded.format() + "; packed: "
                + packed.format());
        assertEquals(padded.real(), packed.real());
        assertEquals(16, packed.examples(), "micro-batches of 5, 5, 5 and 1 examples");
        assertEquals(16, padded.rows());
        assertTrue(packed.rows() < padded.rows() && packed.positions() < padded.positions(), packed + " vs " + padded);
        assertEquals(packed, tokens.get(2), "recomputation lays out the same batches");
        double worstLoss = 0;
        double worstWeight = 0;
        for (int run = 1; run < 3; run++) {
            for (int step = 0; step < 2; step++) {
                double a = losses.get(0)[step];
                double b = losses.get(run)[step];
                worstLoss = Math.max(worstLoss, Math.abs(a - b) / Math.abs(a));
                assertTrue(Math.abs(a - b) <= 1e-5 * Math.abs(a), "run " + run + ", step " + (step + 1) + ": loss " + a
                        + " padded, " + b + " packed");
            }
            for (Map.Entry<String, INDArray> e : weights.get(0).entrySet()) {
                INDArray other = weights.get(run).get(e.getKey());
                double rel = other.sub(e.getValue()).norm2Number().doubleValue() / e.getValue().norm2Number().doubleValue();
                worstWeight = Math.max(worstWeight, rel);
                assertTrue(rel <= 1e-4, "run " + run + ": " + e.getKey() + " differs by " + rel + " of its norm");
            }
        }
        System.out.printf("packed (whole graph and recomputing) against padded: losses within %.2g, trained weights"
                + " within %.2g of their norm%n", worstLoss, worstWeight);
    }

    private static TrainConfig resumeConfig() {
        return TrainConfig.builder().learningRate(5e-3).maxSteps(5).gradientAccumulationSteps(2).seed(7)
                .saveSteps(2).saveTotalLimit(2).warmupRatio(0.2).lrScheduler(LrSchedulerType.COSINE).build();
    }

    private static LlamaFineTune fineTune(LlamaAdapters adapters, Path out) {
        return LlamaFineTune.builder(model(), adapters, SAMPLE).trainConfig(resumeConfig())
                .options(FineTuneOptions.defaults().withBatchSize(3)).outputDir(out).messages(m -> { }).build();
    }

    @Test
    void stoppingAndResumingGivesBitForBitTheWeightsOfAStraightRun(@TempDir Path tmp) throws Exception {
        AdapterConfig withDropout = TrainFixtures.mor(0.1);
        Path straightDir = tmp.resolve("straight");
        LlamaAdapters straight = LlamaAdapters.create(model().weights(), withDropout, 11);
        FineTuneResult s = fineTune(straight, straightDir).train();
        assertEquals(straightDir, s.adapter());

        Path splitDir = tmp.resolve("split");
        LlamaFineTune first = fineTune(LlamaAdapters.create(model().weights(), withDropout, 11), splitDir);
        FineTuneResult part = first.train(3);
        assertEquals(3, part.globalStep());
        assertEquals(null, part.adapter(), "the adapter is written when max_steps is reached");
        assertTrue(Files.isDirectory(splitDir.resolve("checkpoint-2")));
        assertTrue(Files.isDirectory(splitDir.resolve("checkpoint-3")));
        // a fresh process: other initial weights, everything comes from the checkpoint
        LlamaAdapters resumedAdapters = LlamaAdapters.create(model().weights(), withDropout, 999);
        LlamaFineTune second = fineTune(resumedAdapters, splitDir);
        assertEquals(splitDir.resolve("checkpoint-3"), second.resume(splitDir));
        FineTuneResult rest = second.train();
        assertEquals(2, rest.steps().size());

        for (Map.Entry<String, INDArray> e : straight.weights().entrySet()) {
            assertArrayEquals(e.getValue().data().asFloat(), resumedAdapters.weights().get(e.getKey()).data().asFloat(),
                    e.getKey());
        }
        assertArrayEquals(Files.readAllBytes(straightDir.resolve(AdapterFiles.WEIGHTS)),
                Files.readAllBytes(splitDir.resolve(AdapterFiles.WEIGHTS)), "the saved adapters are the same bytes");
        assertEquals(Files.readString(straightDir.resolve(RouterStats.FILE)),
                Files.readString(splitDir.resolve(RouterStats.FILE)), "router statistics");
        List<JsonNode> a = MetricsFile.read(straightDir.resolve(MetricsLog.FILE));
        List<JsonNode> b = MetricsFile.read(splitDir.resolve(MetricsLog.FILE));
        assertEquals(5, a.size());
        assertEquals(5, b.size(), "each step once in the resumed run's metrics");
        for (int i = 0; i < 5; i++) {
            assertEquals(i + 1, b.get(i).get("step").asLong());
            assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, "loss of step " + (i + 1));
            assertEquals(a.get(i).get("grad_norm").asDouble(), b.get(i).get("grad_norm").asDouble(), 0.0);
        }
        assertEquals(List.of(splitDir.resolve("checkpoint-4"), splitDir.resolve("checkpoint-5")),
                new CheckpointStore(splitDir, 0).checkpoints(), "save_total_limit 2 keeps the last two");

        // the saved adapter and every checkpoint load as adapters and compute what the trained one computes
        Batch batch = BatchCollator.collate(SAMPLE.subList(0, 3));
        INDArray expected = LlamaForward.run(straight.graph(model().weights(), GraphKind.INFERENCE), batch).logits();
        for (Path dir : List.of(straightDir, splitDir, splitDir.resolve("checkpoint-5"))) {
            LlamaAdapters loaded = LlamaAdapters.load(model().weights(), dir);
            INDArray logits = LlamaForward.run(loaded.graph(model().weights(), GraphKind.INFERENCE), batch).logits();
            assertEquals(0.0, TestData.maxAbsDiff(expected, logits), dir.toString());
        }
        INDArray base = LlamaForward.run(dev.mor4j.llama.model.LlamaGraph.base(model().weights(), GraphKind.INFERENCE),
                batch)
                .logits();
        assertTrue(TestData.maxAbsDiff(expected, base) > 1e-3, "training changed the model");
    }

    @Test
    void resumingOnOtherDataIsRefused(@TempDir Path tmp) {
        AdapterConfig cfg = TrainFixtures.mor(0.0);
        fineTune(LlamaAdapters.create(model().weights(), cfg, 1), tmp).train(1);
        LlamaFineTune other = LlamaFineTune.builder(model(), LlamaAdapters.create(model().weights(), cfg, 1),
                SAMPLE.subList(0, 10)).trainConfig(resumeConfig())
                .options(FineTuneOptions.defaults().withBatchSize(3)).outputDir(tmp).messages(m -> { }).build();
        MorException e = assertThrows(MorException.class, () -> other.resume(tmp));
        assertTrue(e.getMessage().contains("other data (16 examples"), e.getMessage());
    }

    @Test
    void anAdapterWithoutRouterTrainsWithoutRouterStatistics(@TempDir Path tmp) {
        AdapterConfig lora = AdapterConfig.lora().rank(4).alpha(8).dropout(0.05).targetModules("q_proj", "v_proj")
                .build();
        LlamaFineTune ft = LlamaFineTune.builder(model(), LlamaAdapters.create(model().weights(), lora, 3), SAMPLE)
                .trainConfig(TrainConfig.builder().maxSteps(1).build()).outputDir(tmp).messages(m -> { }).build();
        ft.train();
        assertTrue(ft.routerStats().isEmpty());
        assertTrue(Files.isRegularFile(tmp.resolve(AdapterFiles.WEIGHTS)));
        assertFalse(Files.exists(tmp.resolve(RouterStats.FILE)));
        assertEquals("LORA", AdapterFiles.load(tmp).config().peftType());
    }

    @Test
    void noExamplesStopsBeforeTraining() {
        LlamaAdapters mor = LlamaAdapters.create(model().weights(), TrainFixtures.mor(0.05), 42);
        MorException e = assertThrows(MorException.class, () -> LlamaFineTune.builder(model(), mor, List.of())
                .trainConfig(TrainConfig.builder().maxSteps(1).build()).build());
        assertTrue(e.getMessage().startsWith("no training examples"), e.getMessage());
    }
}
