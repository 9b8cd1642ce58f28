package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.ShardedCheckpoint;
import dev.mor4j.core.train.LrSchedulerType;
import dev.mor4j.core.train.MetricsLog;
import dev.mor4j.core.train.SameDiffGradients;
import dev.mor4j.core.train.StepMetrics;
import dev.mor4j.core.train.StepResult;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.GoldenBatch;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.LlamaWeights;
import dev.mor4j.llama.model.TrainableBase;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Full fine-tuning through {@link LlamaFineTune}: every base weight trained, the loss going down, an exact resume, the
 * memory plan's refusal, and the Hugging Face model directories it writes.
 */
class FullFineTuneTest {

    /** The sample at 64 tokens: full fine-tuning steps of the tiny model are dominated by its 32,000-token vocabulary. */
    private static final List<EncodedExample> SAMPLE = TrainFixtures.sample(64);

    private static LlamaModel model() {
        return TrainFixtures.model();
    }

    @Test
    void twelveStepsOnTheSampleLowerTheLossAndTrainEveryWeight(@TempDir Path tmp) {
        TrainableBase base = TrainableBase.of(model().weights());
        Map<String, INDArray> before = copies(base);
        TrainConfig cfg = TrainConfig.builder().learningRate(3e-3).maxSteps(12).seed(42).saveSteps(0).build();
        List<String> messages = new ArrayList<>();
        LlamaFineTune ft = LlamaFineTune.builder(model(), base, SAMPLE).trainConfig(cfg).outputDir(tmp)
                .tokenizer(TestData.root().resolve("tokenizers/sp-bpe-32k")).messages(messages::add).build();
        FineTuneResult r = ft.train();
        double first = r.meanLossOfFirst(3);
        double last = r.meanLossOfLast(3);
        System.out.printf("12 full fine-tuning steps on the Tulu sample (batch 4, lr 3e-3): mean loss of steps 1-3 %.4f,"
                + " of steps 10-12 %.4f%n", first, last);
        assertTrue(r.steps().stream().noneMatch(StepMetrics::skipped));
        assertTrue(first - last > 1.0, "loss " + first + " -> " + last);
        assertEquals("trainable params: 2,071,200 || all params: 2,071,200 || trainable%: 100.0000", messages.get(0));
        assertTrue(messages.get(1).startsWith("memory plan: weights as loaded"), messages.get(1));
        assertFalse(ft.recomputing());
        assertTrue(ft.routerStats().isEmpty());
        for (Map.Entry<String, INDArray> e : base.weights().entrySet()) {
            assertTrue(TestData.maxAbsDiff(before.get(e.getKey()), e.getValue()) > 0, e.getKey() + " was not trained");
        }

        // the final model: a Hugging Face directory, in float32, with the tokenizer, that computes what was trained
        Path dir = tmp.resolve(LlamaFineTune.FINAL_MODEL);
        assertEquals(dir, r.adapter());
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(dir.resolve(Tokenizer.FILE_NAME)));
        assertEquals(LlamaConfig.load(TestData.model("tiny-llama-f32")), LlamaConfig.load(dir));
        try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(dir)) {
            assertEquals(LlamaWeights.expectedShapes(model().config()).keySet(), new java.util.HashSet<>(ckpt.keys()));
            for (String k : ckpt.keys()) {
                assertEquals(dev.mor4j.core.safetensors.DType.F32, ckpt.info(k).dtype(), k);
            }
        }
        LlamaModel saved = LlamaModel.load(dir);
        Batch batch = BatchCollator.collate(SAMPLE.subList(0, 3));
        INDArray trained = LlamaForward.run(LlamaGraph.base(base.frozen(DataType.FLOAT), GraphKind.INFERENCE), batch).logits();
        INDArray loaded = LlamaForward.run(LlamaGraph.base(saved.weights(), GraphKind.INFERENCE), batch).logits();
        INDArray original = LlamaForward.run(LlamaGraph.base(model().weights(), GraphKind.INFERENCE), batch).logits();
        assertEquals(0.0, TestData.maxAbsDiff(trained, loaded), "the saved model computes the trained one");
        assertTrue(TestData.maxAbsDiff(trained, original) > 1e-2, "training changed the model");
    }

    private static Map<String, INDArray> copies(TrainableBase base) {
        Map<String, INDArray> m = new java.util.LinkedHashMap<>();
        base.weights().forEach((k, v) -> m.put(k, v.dup()));
        return m;
    }

    private static TrainConfig resumeConfig() {
        return TrainConfig.builder().learningRate(1e-3).maxSteps(4).gradientAccumulationSteps(2).seed(7)
                .saveSteps(2).saveTotalLimit(2).warmupRatio(0.2).lrScheduler(LrSchedulerType.COSINE)
                .weightDecay(0.01).build();
    }

    private static LlamaFineTune fineTune(TrainableBase base, Path out) {
        return LlamaFineTune.builder(model(), base, SAMPLE).trainConfig(resumeConfig())
                .options(FineTuneOptions.defaults().withBatchSize(3)).outputDir(out).messages(m -> { }).build();
    }

    @Test
    void stoppingAndResumingGivesBitForBitTheWeightsOfAStraightRun(@TempDir Path tmp) throws Exception {
        Path straightDir = tmp.resolve("straight");
        TrainableBase straight = TrainableBase.of(model().weights());
        fineTune(straight, straightDir).train();

        Path splitDir = tmp.resolve("split");
        FineTuneResult part = fineTune(TrainableBase.of(model().weights()), splitDir).train(2);
        assertEquals(null, part.adapter(), "the model is written when max_steps is reached");
        Path checkpoint = splitDir.resolve("checkpoint-2");
        assertTrue(Files.isRegularFile(checkpoint.resolve("model.safetensors")), "a checkpoint is a model directory");
        LlamaModel.load(checkpoint);
        // a fresh process: other initial weights (a random model's), everything comes from the checkpoint
        TrainableBase resumed = TrainableBase.of(LlamaWeights.random(model().config(), 5, 0.02));
        LlamaFineTune second = fineTune(resumed, splitDir);
        assertEquals(checkpoint, second.resume(splitDir));
        FineTuneResult rest = second.train();
        assertEquals(2, rest.steps().size());

        for (Map.Entry<String, INDArray> e : straight.weights().entrySet()) {
            assertArrayEquals(e.getValue().data().asFloat(), resumed.weights().get(e.getKey()).data().asFloat(),
                    e.getKey());
        }
        Path model = Path.of(LlamaFineTune.FINAL_MODEL, "model.safetensors");
        assertArrayEquals(Files.readAllBytes(straightDir.resolve(model)), Files.readAllBytes(splitDir.resolve(model)),
                "the saved models are the same bytes");
        List<JsonNode> a = MetricsFile.read(straightDir.resolve(MetricsLog.FILE));
        List<JsonNode> b = MetricsFile.read(splitDir.resolve(MetricsLog.FILE));
        assertEquals(4, b.size(), "each step once in the resumed run's metrics");
        for (int i = 0; i < 4; i++) {
            assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, "loss of step " + (i + 1));
            assertEquals(a.get(i).get("grad_norm").asDouble(), b.get(i).get("grad_norm").asDouble(), 0.0);
        }
    }

    @Test
    void theMemoryPlanCountsEveryWeightAndRefusesWhatWillNotFit() {
        LlamaWeights weights = model().weights();
        long parameters = 2_071_200;
        MemoryPlan plan = MemoryPlan.fullFineTuning(weights, 4, 64);
        assertEquals(20 * parameters, plan.adapterBytes(), "weights, gradients, their sum and AdamW's m and v in float32");
        assertEquals(plan.weightBytes(), MemoryPlan.of(weights, 0, 4, 64).weightBytes(), "the weights as loaded");
        assertTrue(plan.activationBytes() > MemoryPlan.of(weights, 0, 4, 64).activationBytes(),
                "the LM head's gradient and the one-hot rows come on top of an adapter run's activations");
        assertTrue(plan.recomputeBytes() < plan.activationBytes());

        long limit = MemoryPlan.fullFineTuning(weights, 4, 16).peakWithRecompute() + 1_000_000;
        IntFunction<MemoryPlan> ofLength = len -> MemoryPlan.fullFineTuning(weights, 4, len).withLimit(limit, "a test limit");
        MorException e = assertThrows(MorException.class,
                () -> LlamaFineTune.resolve(Recompute.AUTO, ofLength.apply(4096), 4, 4096, ofLength));
        String m = e.getMessage();
        assertTrue(m.startsWith("this run will not fit in memory") && m.contains("a test limit")
                && m.contains("trained weights + gradients + AdamW at 20 bytes per parameter 0.04 GB")
                && m.contains("max length of at most") && m.contains("or an adapter (--method lora"), m);
        int fits = Integer.parseInt(m.replaceAll(".*max length of at most (\\d+) tokens.*", "$1"));
        assertTrue(ofLength.apply(fits).fits(true) && !ofLength.apply(fits + 1).fits(true), m);
        assertEquals(!ofLength.apply(16).fits(false), LlamaFineTune.resolve(Recompute.AUTO, ofLength.apply(16), 4, 16,
                ofLength), "auto recomputes exactly when the run would not fit without");
    }

    /** Layer by layer with recomputation, the loss and every weight's gradient are the whole graph's. */
    @Test
    void recomputingLayerByLayerGivesTheWholeGraphsGradients() {
        LlamaConfig c = model().config();
        LlamaConfig tied = new LlamaConfig(c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), true,
                c.vocabSize(), 512, c.bosTokenId(), c.eosTokenIds());
        for (LlamaWeights weights : List.of(model().weights(), LlamaWeights.random(tied, 2, 0.2))) {
            Batch batch = GoldenBatch.golden();
            TrainableBase base = TrainableBase.of(weights);
            LlamaGraph graph = base.graph(weights);
            SameDiffGradients.BatchSupplier feeds = (step, mb) -> new SameDiffGradients.Batch(
                    graph.feeds(batch, LlamaFeeds.Reduction.MEAN), batch.tokenCount());
            StepResult whole = new SameDiffGradients(graph.sd(), LlamaGraph.TOTAL_LOSS,
                    new ArrayList<>(base.weights().keySet()), feeds).compute(0, 0);
            Map<String, INDArray> expected = new java.util.HashMap<>();
            whole.gradients().forEach((k, g) -> expected.put(k, g.dup()));
            LayerwiseGradients layerwise = new LayerwiseGradients(weights, base, 1, feeds);
            assertEquals(base.weights().get("model.embed_tokens.weight"),
                    layerwise.trainableArrays().get("model.embed_tokens.weight"));
            StepResult layered = layerwise.compute(0, 0);
            assertEquals(whole.loss(), layered.loss(), 1e-6 * Math.abs(whole.loss()));
            assertEquals(expected.keySet(), layered.gradients().keySet());
            double worst = 0;
            for (String k : expected.keySet()) {
                INDArray g = expected.get(k);
                double rel = TestData.maxAbsDiff(g, layered.gradients().get(k)) / g.amaxNumber().doubleValue();
                worst = Math.max(worst, rel);
                assertTrue(rel <= 1e-6, k + ": relative difference " + rel);
            }
            System.out.printf("full fine-tuning, layer-wise vs whole graph (%s): loss %.9g vs %.9g, largest relative"
                    + " gradient difference %.3g%n", weights.config().tieWordEmbeddings() ? "tied" : "untied",
                    whole.loss(), layered.loss(), worst);
        }
    }

    @Test
    void aRandomTiedModelPreTrainsAndSavesWithoutAnLmHead(@TempDir Path tmp) {
        LlamaConfig c = model().config();
        LlamaConfig tied = new LlamaConfig(c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), true,
                c.vocabSize(), 512, c.bosTokenId(), c.eosTokenIds());
        LlamaModel random = LlamaModel.random(tied, 1);
        assertEquals(null, random.directory());
        TrainableBase base = TrainableBase.of(random.weights());
        TrainConfig cfg = TrainConfig.builder().learningRate(3e-3).maxSteps(8).seed(1).saveSteps(0).build();
        FineTuneResult r = LlamaFineTune.builder(random, base, SAMPLE).trainConfig(cfg).outputDir(tmp)
                .messages(m -> { }).build().train();
        System.out.printf("8 steps of pre-training a random tied model: loss %.4f -> %.4f%n", r.meanLossOfFirst(3),
                r.meanLossOfLast(3));
        assertTrue(r.meanLossOfFirst(3) - r.meanLossOfLast(3) > 0.2);
        LlamaModel saved = LlamaModel.load(r.adapter());
        assertEquals(tied, saved.config());
        try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(r.adapter())) {
            assertFalse(ckpt.keys().contains("lm_head.weight"), "a tied head is saved as the embedding alone");
        }
        Batch batch = BatchCollator.collate(SAMPLE.subList(0, 2));
        assertEquals(0.0, TestData.maxAbsDiff(
                LlamaForward.run(LlamaGraph.base(base.frozen(DataType.FLOAT), GraphKind.INFERENCE), batch).logits(),
                LlamaForward.run(LlamaGraph.base(saved.weights(), GraphKind.INFERENCE), batch).logits()));
    }

    @Test
    void aSixteenBitModelIsTrainedAndSavedInFloat32(@TempDir Path tmp) throws Exception {
        LlamaModel bf16 = LlamaModel.load(TestData.model("tiny-llama-bf16"));
        TrainableBase base = TrainableBase.of(bf16.weights());
        for (INDArray a : base.weights().values()) {
            assertEquals(DataType.FLOAT, a.dataType());
        }
        FullCheckpoint.write(tmp, base, bf16.directory(), null);
        assertTrue(Files.readString(tmp.resolve("config.json")).contains("\"float32\""));
        assertEquals(Files.readString(bf16.directory().resolve("generation_config.json")),
                Files.readString(tmp.resolve("generation_config.json")));
        Batch batch = BatchCollator.collate(SAMPLE.subList(0, 2));
        assertEquals(0.0, TestData.maxAbsDiff(
                LlamaForward.run(LlamaGraph.base(bf16.weights(), GraphKind.INFERENCE), batch).logits(),
                LlamaForward.run(LlamaGraph.base(LlamaModel.load(tmp).weights(), GraphKind.INFERENCE), batch).logits()),
                "float32 holds the 16-bit weights exactly");
        MorException again = assertThrows(MorException.class, () -> FullCheckpoint.write(tmp, base, null, null));
        assertTrue(again.getMessage().contains("already holds config.json"), again.getMessage());
    }

    @Test
    void aStepBackendIsRefused() {
        StepBackend remote = run -> {
            throw new AssertionError("not started");
        };
        MorException e = assertThrows(MorException.class, () -> LlamaFineTune.builder(model(),
                TrainableBase.of(model().weights()), SAMPLE).trainConfig(TrainConfig.builder().maxSteps(1).build())
                .backend(remote).messages(m -> { }).build());
        assertTrue(e.getMessage().contains("full fine-tuning computes its steps in this process"), e.getMessage());
    }
}
