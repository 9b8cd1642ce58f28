package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterContext;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.train.DropoutMasks;
import dev.mor4j.core.train.SameDiffGradients;
import dev.mor4j.core.train.StepResult;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.GoldenBatch;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Layer-by-layer gradients with recomputation equal the whole graph's: same loss, same gradient of every adapter
 * weight (≤ 1e-6 relative to the gradient's largest entry), with dropout and with a router's auxiliary loss. The
 * gradient comparisons run in float64, where the two paths differ only by the order of their sums (the LM head's
 * softmax whole or one vocabulary block at a time); in float32, as training runs, the fine-tuning test compares them.
 */
class LayerwiseGradientsTest {

    private static final long SEED = 11;

    private static void assertSameGradients(AdapterConfig config, String model) {
        assertSameGradients(config, model, GoldenBatch.golden(), 1e-6);
    }

    /** @param tolerance the largest difference allowed, relative to each gradient's largest entry */
    private static void assertSameGradients(AdapterConfig config, String model, Batch batch, double tolerance) {
        LlamaWeights weights = LlamaModel.load(TestData.model(model)).weights().castTo(DataType.DOUBLE);
        LlamaAdapters whole = LlamaAdapters.create(weights, config, 3);
        whole.weights().forEach((k, v) -> {
            if (k.endsWith("lora_B.weight")) {
                v.assign(org.nd4j.linalg.factory.Nd4j.rand(SEED, v.shape()).subi(0.5).muli(0.1)); // dA ≠ 0
            } else if (k.contains("mor_omega")) {
                // experts that differ: with Ω all ones every expert is the shared LoRA, the router's exact gradient
                // is 0 and what either path computes for it is rounding noise
                v.assign(org.nd4j.linalg.factory.Nd4j.rand(SEED + 1, v.shape()).subi(0.5).muli(0.5).addi(1));
            }
        });
        LlamaAdapters layered = LlamaAdapters.of(weights, config, copies(whole.weights()), "copy");

        LlamaGraph graph = whole.graph(weights, GraphKind.TRAINING);
        AdapterContext ctx = graph.adapterContext();
        SameDiffGradients reference = graph.gradientSource(new ArrayList<>(whole.weights().keySet()), (step, mb) -> {
            Map<String, INDArray> f = graph.feeds(batch, LlamaFeeds.Reduction.MEAN);
            long rows = (long) batch.batchSize() * batch.seqLen();
            f.putAll(DropoutMasks.fill(ctx.dropoutMasks(), ctx.dropoutRates(), rows, SEED, step, mb));
            return new SameDiffGradients.Batch(f, batch.tokenCount());
        });
        LayerwiseGradients layerwise = new LayerwiseGradients(weights, layered, SEED, (step, mb) ->
                new SameDiffGradients.Batch(graph.feeds(batch, LlamaFeeds.Reduction.MEAN), batch.tokenCount()));
        for (int step = 0; step < 2; step++) {
            StepResult a = reference.compute(step, 1);
            StepResult b = layerwise.compute(step, 1);
            assertEquals(a.loss(), b.loss(), 1e-6 * Math.abs(a.loss()), "loss at step " + step);
            assertEquals(a.gradients().keySet(), b.gradients().keySet());
            double worst = 0;
            for (String k : a.gradients().keySet()) {
                INDArray ga = a.gradients().get(k);
                double scale = Math.max(ga.amaxNumber().doubleValue(), 1e-30);
                double rel = TestData.maxAbsDiff(ga, b.gradients().get(k)) / scale;
                worst = Math.max(worst, rel);
                assertTrue(rel <= tolerance, k + ": relative difference " + rel);
            }
            System.out.printf("layer-wise vs whole graph (%s, %s): loss %.9g vs %.9g, largest relative gradient"
                    + " difference %.3g%n", config.peftType(), model, a.loss(), b.loss(), worst);
        }
    }

    private static Map<String, INDArray> copies(Map<String, INDArray> w) {
        Map<String, INDArray> out = new HashMap<>();
        w.forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    @Test
    void morWithDropoutEqualsTheWholeGraph() {
        assertSameGradients(TrainFixtures.mor(0.05), "tiny-llama-f32");
    }

    @Test
    void balancedRouterAuxLossOnSixteenBitWeightsEqualsTheWholeGraph() {
        AdapterConfig balanced = AdapterConfig.mor().rank(4).alpha(16).dropout(0.1)
                .targetModules("q_proj", "v_proj", "down_proj").experts(4).router(RouterType.BALANCED)
                .routerAuxLossCoef(0.05).build();
        assertSameGradients(balanced, "tiny-llama-bf16");
    }

    /**
     * MoRE: its per-task selector and its task-alignment loss (averaged over all modules, not a segment's). Without
     * the alignment loss the gradients are bit-identical, as MoR's; with it they differ by float32 rounding (largest
     * difference 1.0e-6 of a gradient's largest entry at the first step, 5.1e-6 on a 4-entry gate bias at the
     * second, where the bias's gradient is a sum with cancellation), hence 1e-5 here.
     */
    @Test
    void moreWithTaskAlignmentEqualsTheWholeGraph() {
        AdapterConfig more = MoreFineTuneTest.more(0.05, List.of("a", "b", "c"));
        assertSameGradients(more, "tiny-llama-f32", GoldenBatch.golden().withTaskIds(new long[] {2, 0}), 1e-5);
        AdapterConfig m = MoreFineTuneTest.more(0.05, List.of("a", "b", "c"));
        AdapterConfig noAlignment = m.toBuilder().taskLossWeight(0.0).build();
        assertSameGradients(noAlignment, "tiny-llama-f32", GoldenBatch.golden().withTaskIds(new long[] {2, 0}), 1e-12);
    }

    /**
     * Three AdamW steps with gradient accumulation take the same steps with and without recomputation, in float32 as
     * training runs: every step's loss and gradient norm agree within 1e-6 relative. The weights after the steps are
     * compared to 1e-4 of each array's largest entry, not 1e-6: the two paths compute the LM head's softmax in a
     * different order (whole, and one vocabulary block at a time), so their gradients differ by float32 rounding, and
     * AdamW divides each gradient entry by its own running magnitude, which turns a rounding difference in an entry
     * near zero into a difference of a fraction of the learning rate. In float64 the gradients agree to 1e-14 (the
     * tests above).
     */
    @Test
    void fineTuningWithRecomputationTakesTheSameSteps() {
        List<dev.mor4j.llama.data.EncodedExample> sample = TrainFixtures.sample(64);
        List<dev.mor4j.core.train.StepMetrics> offSteps = new ArrayList<>();
        List<dev.mor4j.core.train.StepMetrics> onSteps = new ArrayList<>();
        Map<String, INDArray> off = fineTune(Recompute.OFF, sample, offSteps);
        Map<String, INDArray> on = fineTune(Recompute.ON, sample, onSteps);
        assertEquals(3, offSteps.size());
        assertEquals(3, onSteps.size());
        for (int i = 0; i < 3; i++) {
            double loss = offSteps.get(i).loss();
            double norm = offSteps.get(i).gradNorm();
            assertEquals(loss, onSteps.get(i).loss(), 1e-6 * Math.abs(loss), "loss at step " + i);
            assertEquals(norm, onSteps.get(i).gradNorm(), 1e-6 * Math.abs(norm), "gradient norm at step " + i);
        }
        for (String k : off.keySet()) {
            double scale = Math.max(off.get(k).amaxNumber().doubleValue(), 1e-30);
            double rel = TestData.maxAbsDiff(off.get(k), on.get(k)) / scale;
            assertTrue(rel <= 1e-4, k + ": relative difference " + rel);
        }
    }

    private static Map<String, INDArray> fineTune(Recompute recompute, List<dev.mor4j.llama.data.EncodedExample> data,
            List<dev.mor4j.core.train.StepMetrics> steps) {
        // experts that differ from the start (omega_init random): with Ω all ones the router's exact gradient at the
        // first step is 0, and AdamW would turn either path's rounding noise in it into a full step
        AdapterConfig config = TrainFixtures.mor(0.05).toBuilder().omegaInit(dev.mor4j.core.adapter.OmegaInit.RANDOM)
                .build();
        LlamaAdapters mor = LlamaAdapters.create(TrainFixtures.model().weights(), config, 42);
        dev.mor4j.core.train.TrainConfig cfg = dev.mor4j.core.train.TrainConfig.builder().learningRate(1e-2).maxSteps(3)
                .gradientAccumulationSteps(2).seed(5).build();
        List<String> messages = new ArrayList<>();
        LlamaFineTune ft = LlamaFineTune.builder(TrainFixtures.model(), mor, data).trainConfig(cfg)
                .options(FineTuneOptions.defaults().withBatchSize(2)).recompute(recompute).messages(messages::add)
                .listener(steps::add).build();
        assertEquals(recompute == Recompute.ON, ft.recomputing());
        ft.train();
        assertTrue(messages.get(1).startsWith("memory plan: "), messages.toString());
        assertTrue(ft.routerStats().datasetNames().size() > 0, "router statistics are gathered on both paths");
        return mor.weights();
    }

    /** A run the plan says will not fit stops before it starts, saying what would fit. */
    @Test
    void aRunThatWillNotFitSaysWhatWould() {
        LlamaWeights weights = TrainFixtures.model().weights();
        // a limit just above what 4 × 16 tokens take with recomputation: 4 × 4096 tokens do not fit
        long limit = MemoryPlan.of(weights, 12_000, 4, 16).peakWithRecompute() + 1_000_000;
        java.util.function.IntFunction<MemoryPlan> plan = len ->
                MemoryPlan.of(weights, 12_000, 4, len).withLimit(limit, "a test limit");
        dev.mor4j.core.MorException e = org.junit.jupiter.api.Assertions.assertThrows(dev.mor4j.core.MorException.class,
                () -> LlamaFineTune.resolve(Recompute.AUTO, plan.apply(4096), 4, 4096, plan));
        String m = e.getMessage();
        assertTrue(m.contains("will not fit") && m.contains("a test limit") && m.contains("max length of at most"), m);
        int fits = Integer.parseInt(m.replaceAll(".*max length of at most (\\d+) tokens.*", "$1"));
        assertTrue(plan.apply(fits).fits(true) && !plan.apply(fits + 1).fits(true), m);
        assertEquals(!plan.apply(16).fits(false), LlamaFineTune.resolve(Recompute.AUTO, plan.apply(16), 4, 16, plan),
                "auto recomputes exactly when the run would not fit without");
        assertTrue(LlamaFineTune.resolve(Recompute.ON, plan.apply(16), 4, 16, plan));
    }
}
