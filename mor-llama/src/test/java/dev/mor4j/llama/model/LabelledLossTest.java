package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.OmegaInit;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.nn.SessionMemory;
import dev.mor4j.core.train.GradientFunction;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.GoldenBatch;
import dev.mor4j.llama.adapter.LlamaAdapters;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The loss that runs the LM head on the labelled positions only ({@link LabelledLoss}) against the causal-LM loss
 * over every position's logits ({@link EveryPositionLoss}), on the golden batch with a MoR adapter on every
 * projection of the tiny model, in the training graph: in float64 the same loss and adapter gradients (1e-5
 * relative) as the former computation and as SameDiff's own gradient of an independent form; in float32 the
 * same loss as the former computation. And a batch without any label, and the logits of every position from a
 * graph with a loss.
 */
class LabelledLossTest {

    private static final double TOLERANCE = 1e-5;
    /** float32 gradients against float64 ones, as MorGoldenTest holds them. */
    private static final double FLOAT32_TOLERANCE = 1e-4;

    private static LlamaWeights weights;
    private static Batch golden;

    @BeforeAll
    static void load() {
        weights = LlamaModel.load(TestData.model("tiny-llama-f32")).weights();
        golden = GoldenBatch.golden();
    }

    /** MoR on all seven projections with random nonzero B, so that every adapter weight has a gradient. */
    private static final AdapterConfig MOR = AdapterConfig.mor().rank(8).alpha(32).dropout(0.0)
            .targetModules(LlamaWeights.PROJECTIONS.stream().map(p -> p.substring(p.indexOf('.') + 1)).toList())
            .experts(4).router(RouterType.SOFTMAX).omegaInit(OmegaInit.RANDOM).build();

    /** The same adapter weights (drawn in float32) for a model computing in {@code w}'s type. */
    private static LlamaAdapters mor(LlamaWeights w) {
        LlamaAdapters a = LlamaAdapters.create(weights, MOR, 11);
        Random rng = new Random(5);
        Map<String, INDArray> typed = new LinkedHashMap<>();
        a.weights().forEach((k, v) -> {
            if (k.endsWith("lora_B.weight")) {
                float[] values = new float[(int) v.length()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (0.3 * rng.nextGaussian());
                }
                v = Nd4j.create(values, v.shape(), DataType.FLOAT);
            }
            typed.put(k, v.castTo(w.dataType()));
        });
        return LlamaAdapters.of(w, MOR, typed, "random");
    }

    @Test
    void float64LossAndGradientsEqualTheFormerComputationOverEveryPosition() {
        LlamaWeights w = weights.castTo(DataType.DOUBLE);
        assertClose("float64, the former closed form", labelledRows(w), everyPosition(w, EveryPositionLoss::closedForm),
                TOLERANCE);
    }

    @Test
    void float64LossAndGradientsEqualSameDiffsGradientOfTheLossOverEveryPosition() {
        LlamaWeights w = weights.castTo(DataType.DOUBLE);
        assertClose("float64, autodiff", labelledRows(w), everyPosition(w, EveryPositionLoss::autodiff), TOLERANCE);
    }

    /**
     * In float32 the two computations differ by rounding alone (GEMMs over {@code L} rather than {@code B·T} rows
     * round their last rows differently), which the router weights' small gradients amplify to several 1e-6
     * relative, while either is about 1.4e-5 from the exact gradients: so the float32 gradients are held to the
     * exact ones at MorGoldenTest's float32 bound, and the float32 loss to the former one.
     */
    @Test
    void float32LossEqualsTheFormerOneAndGradientsTheExactOnes() {
        Result labelled = labelledRows(weights);
        Result former = everyPosition(weights, EveryPositionLoss::closedForm);
        Result exact = labelledRows(weights.castTo(DataType.DOUBLE));
        double lossErr = Math.abs(labelled.loss - former.loss) / Math.abs(former.loss);
        System.out.printf("labelled-rows loss, float32: loss rel %.2g vs the former; gradients worst rel %.2g vs the "
                + "former, %.2g vs float64 (the former: %.2g)%n", lossErr, worst(labelled, former),
                worst(labelled, exact), worst(former, exact));
        assertTrue(lossErr <= TOLERANCE, "float32 loss " + labelled.loss + " vs the former " + former.loss);
        assertClose("float32 vs float64", labelled, exact, FLOAT32_TOLERANCE);
    }

    /** {@link LlamaFeeds#withHeadAtEveryPosition}: the same graph, its head over all rows, the same results. */
    @Test
    void theHeadAtEveryPositionGivesTheSameLossAndGradients() {
        LlamaWeights w = weights.castTo(DataType.DOUBLE);
        LlamaAdapters adapters = mor(w);
        LlamaGraph graph = adapters.graph(w, GraphKind.TRAINING);
        Map<String, INDArray> feeds = graph.feeds(golden, LlamaFeeds.Reduction.MEAN);
        Map<String, INDArray> every = LlamaFeeds.withHeadAtEveryPosition(feeds);
        long positions = (long) golden.batchSize() * golden.seqLen();
        assertEquals(positions, every.get(LlamaGraph.LABEL_ROWS).length(), "the head runs on every row");
        OutAndGrad r = graph.gradients(every, adapters.weights().keySet());
        Result atEveryPosition = new Result(r.getOutputs().get(LlamaGraph.LOSS).getDouble(0), r.getGradients(),
                feeds.get(LlamaGraph.LABEL_ROWS).length(), positions);
        assertClose("float64, the head at every position", atEveryPosition, labelledRows(w), 1e-12);
    }

    /** A loss, the adapter gradients, and how many of the batch's positions carry a label. */
    private record Result(double loss, Map<String, INDArray> gradients, long labelled, long positions) {
    }

    /** The training graph's loss and gradients on the golden batch. */
    private static Result labelledRows(LlamaWeights w) {
        LlamaAdapters adapters = mor(w);
        LlamaGraph graph = adapters.graph(w, GraphKind.TRAINING);
        Map<String, INDArray> feeds = graph.feeds(golden, LlamaFeeds.Reduction.MEAN);
        OutAndGrad r = graph.gradients(feeds, adapters.weights().keySet());
        return new Result(r.getOutputs().get(LlamaGraph.LOSS).getDouble(0), r.getGradients(),
                feeds.get(LlamaGraph.LABEL_ROWS).length(), (long) golden.batchSize() * golden.seqLen());
    }

    /** A reference loss over every position, added to the training graph without a loss, and its gradients. */
    private static Result everyPosition(LlamaWeights w, Consumer<LlamaGraph> reference) {
        LlamaAdapters adapters = mor(w);
        LlamaGraph graph = adapters.graph(w, GraphKind.TRAINING_LOGITS);
        reference.accept(graph);
        Map<String, INDArray> feeds = graph.feeds(golden, LlamaFeeds.Reduction.MEAN);
        feeds.putAll(EveryPositionLoss.feeds(golden, w.dataType()));
        OutAndGrad r = GradientFunction.run(graph.sd(), feeds, List.of(EveryPositionLoss.LOSS),
                new ArrayList<>(adapters.weights().keySet()));
        long positions = (long) golden.batchSize() * golden.seqLen();
        return new Result(r.getOutputs().get(EveryPositionLoss.LOSS).getDouble(0), r.getGradients(), positions,
                positions);
    }

    /** The largest over weights of max |a − b| / max |b|. */
    private static double worst(Result a, Result b) {
        double worst = 0;
        for (String k : b.gradients.keySet()) {
            INDArray expected = b.gradients.get(k).castTo(DataType.DOUBLE);
            double scale = expected.amaxNumber().doubleValue();
            assertTrue(scale > 0, k + ": the reference gradient is zero");
            worst = Math.max(worst, TestData.maxAbsDiff(a.gradients.get(k).castTo(DataType.DOUBLE), expected) / scale);
        }
        return worst;
    }

    private static void assertClose(String label, Result actual, Result expected, double tolerance) {
        assertTrue(actual.labelled > 0 && actual.labelled < actual.positions,
                "the golden batch has unlabelled positions: " + actual.labelled + " of " + actual.positions);
        assertEquals(expected.gradients.keySet(), actual.gradients.keySet());
        double lossErr = Math.abs(actual.loss - expected.loss) / Math.abs(expected.loss);
        double worst = worst(actual, expected);
        System.out.printf("labelled-rows loss, %s (%d of %d positions): loss %.8f vs %.8f (rel %.2g), %d gradients, "
                + "worst rel %.2g%n", label, actual.labelled, actual.positions, actual.loss, expected.loss, lossErr,
                actual.gradients.size(), worst);
        assertTrue(lossErr <= tolerance, label + ": loss " + actual.loss + " vs " + expected.loss);
        assertTrue(worst <= tolerance, label + ": gradients' worst relative error " + worst);
    }

    @Test
    void aBatchWithoutLabelsGivesNanForTheMeanAndZeroForTheSum() {
        LlamaAdapters adapters = mor(weights);
        List<String> names = new ArrayList<>(adapters.weights().keySet());
        LlamaGraph graph = adapters.graph(weights, GraphKind.TRAINING);
        long[][] ids = {{1, 17, 400, 9}, {1, 8, 77, 0}};
        long[][] mask = {{1, 1, 1, 1}, {1, 1, 1, 0}};
        long[][] labels = {{-100, -100, -100, -100}, {1, -100, -100, -100}}; // position 0's label is never scored
        Batch batch = new Batch(ids, mask, labels);

        Map<String, INDArray> sum = graph.feeds(batch, LlamaFeeds.Reduction.SUM);
        assertArrayEquals(new long[] {0}, sum.get(LlamaGraph.LABEL_ROWS).shape(), "no labelled row");
        OutAndGrad zero = graph.gradients(sum, names);
        assertEquals(0.0, zero.getOutputs().get(LlamaGraph.LOSS).getDouble(0), "the sum over no position");
        for (String k : names) {
            assertEquals(0.0, zero.getGradients().get(k).amaxNumber().doubleValue(), k + ": gradient of no position");
        }

        // transformers: mean over no position = 0/0
        Map<String, INDArray> mean = graph.feeds(batch, LlamaFeeds.Reduction.MEAN);
        OutAndGrad nan = graph.gradients(mean, names);
        assertTrue(Double.isNaN(nan.getOutputs().get(LlamaGraph.LOSS).getDouble(0)), "the mean over no position");
        assertTrue(Double.isNaN(nan.getGradients().get(names.get(0)).sumNumber().doubleValue()), "its gradient");
        assertTrue(Double.isNaN(SessionMemory.output(graph.sd(), mean, LlamaGraph.LOSS).get(LlamaGraph.LOSS)
                .getDouble(0)), "the loss alone");
    }

    @Test
    void aGraphWithALossStillGivesTheLogitsOfEveryPosition() {
        LlamaForward.Result withLoss = LlamaForward.run(LlamaGraph.base(weights, GraphKind.LOSS), golden);
        LlamaForward.Result without = LlamaForward.run(LlamaGraph.base(weights, GraphKind.INFERENCE), golden);
        assertArrayEquals(new long[] {golden.batchSize(), golden.seqLen(), weights.config().vocabSize()},
                withLoss.logits().shape());
        assertEquals(0.0, TestData.maxAbsDiff(withLoss.logits(), without.logits()), "the same logits");
        double expected = meanLoss(without.logits().castTo(DataType.DOUBLE), golden);
        assertEquals(expected, withLoss.loss(), 1e-5 * expected, "the loss of those logits");
    }

    /** The mean causal-LM loss of {@code logits} {@code [B, T, V]}, in double. */
    private static double meanLoss(INDArray logits, Batch batch) {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < batch.batchSize(); i++) {
            for (int j = 0; j + 1 < batch.seqLen(); j++) {
                long y = batch.labels()[i][j + 1];
                if (y == Batch.IGNORE_INDEX) {
                    continue;
                }
                double[] row = logits.slice(i).slice(j).toDoubleVector(); // [V]
                double max = Double.NEGATIVE_INFINITY;
                for (double z : row) {
                    max = Math.max(max, z);
                }
                double s = 0;
                for (double z : row) {
                    s += Math.exp(z - max);
                }
                sum += max + Math.log(s) - row[(int) y];
                count++;
            }
        }
        return sum / count;
    }
}
