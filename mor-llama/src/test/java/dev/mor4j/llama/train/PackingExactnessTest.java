package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.train.GradientFunction;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.GoldenBatch;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Packed batches compute what padded ones do, on the bundled tiny model with MoR (N 8, r 8) on gate/up/down of
 * both layers: the same loss and adapter gradients as the same examples right-padded one per row (≤ 1e-5
 * relative, through the training graph with its two causal attention blocks), on the goldens' batch and on the
 * encoded Tulu sample; and each packed example's logits are those of the example run alone.
 */
class PackingExactnessTest {

    private static final double TOLERANCE = 1e-5;

    private static LlamaWeights weights;
    private static LlamaAdapters adapters;
    private static LlamaGraph training;

    @BeforeAll
    static void setUp() {
        weights = TrainFixtures.model().weights();
        adapters = LlamaAdapters.create(weights, TrainFixtures.mor(0.0), 5);
        // nonzero B and unequal experts (Ω ≠ 1), so that every weight, the router's included, has a gradient
        adapters.weights().forEach((k, v) -> {
            if (k.endsWith("lora_B.weight")) {
                v.assign(Nd4j.rand(17, v.shape()).subi(0.5).muli(0.1));
            } else if (k.contains("omega")) {
                v.assign(Nd4j.rand(19, v.shape()).addi(0.5));
            }
        });
        training = adapters.graph(weights, GraphKind.TRAINING);
    }

    /** The real tokens of each row of a padded batch, as examples. */
    private static List<EncodedExample> unpad(Batch padded) {
        List<EncodedExample> out = new ArrayList<>();
        for (int i = 0; i < padded.batchSize(); i++) {
            int len = (int) Arrays.stream(padded.attentionMask()[i]).sum();
            int[] ids = new int[len];
            int[] labels = new int[len];
            for (int j = 0; j < len; j++) {
                ids[j] = (int) padded.inputIds()[i][j];
                labels[j] = (int) padded.labels()[i][j];
            }
            out.add(new EncodedExample("row" + i, "golden", ids, labels));
        }
        return out;
    }

    private static OutAndGrad lossAndGradients(Batch batch, LlamaFeeds.Reduction reduction) {
        Map<String, INDArray> feeds = training.feeds(batch, reduction);
        return training.gradients(feeds, adapters.weights().keySet());
    }

    /** Loss and every adapter gradient of {@code packed} against {@code padded}, relative to the gradient's norm. */
    private static void assertSameLossAndGradients(String what, Batch padded, Batch packed,
            LlamaFeeds.Reduction reduction) {
        OutAndGrad a = lossAndGradients(padded, reduction);
        OutAndGrad b = lossAndGradients(packed, reduction);
        double lossA = a.getOutputs().get(LlamaGraph.LOSS).getDouble(0);
        double lossB = b.getOutputs().get(LlamaGraph.LOSS).getDouble(0);
        double lossRel = Math.abs(lossA - lossB) / Math.abs(lossA);
        assertTrue(lossRel <= TOLERANCE, what + ": loss " + lossA + " padded, " + lossB + " packed");
        double worst = 0;
        assertEquals(adapters.weights().size(), a.getGradients().size());
        for (String k : adapters.weights().keySet()) {
            INDArray ga = a.getGradients().get(k);
            INDArray gb = b.getGradients().get(k);
            double norm = ga.norm2Number().doubleValue();
            assertTrue(norm > 0, what + ": " + k + " has no gradient");
            double rel = gb.sub(ga).norm2Number().doubleValue() / norm;
            worst = Math.max(worst, rel);
            assertTrue(rel <= TOLERANCE, what + ": " + k + " differs by " + rel + " of its norm");
        }
        System.out.printf("%s (%s): %d rows x %d padded, %d rows x %d packed; loss %.9g vs %.9g (relative %.2g),"
                + " worst adapter gradient relative difference %.2g over %d weights%n", what, reduction,
                padded.batchSize(), padded.seqLen(), packed.batchSize(), packed.seqLen(), lossA, lossB, lossRel, worst,
                adapters.weights().size());
    }

    @Test
    void theGoldensBatchPackedHasThePaddedLossAndGradients() {
        Batch padded = GoldenBatch.golden();
        List<EncodedExample> examples = unpad(padded);
        Batch packed = PackingCollator.pack(examples, 2 * padded.seqLen());
        assertEquals(1, packed.batchSize(), "both sentences in one row");
        assertEquals(2, packed.exampleCount());
        assertSameLossAndGradients("goldens' batch", padded, packed, LlamaFeeds.Reduction.MEAN);
    }

    @Test
    void theTuluSamplePackedHasThePaddedLossAndGradients() {
        List<EncodedExample> sample = TrainFixtures.sample(256);
        int longest = sample.stream().mapToInt(EncodedExample::length).max().orElseThrow();
        Batch padded = BatchCollator.collate(sample);
        Batch packed = PackingCollator.pack(sample, longest);
        assertTrue(packed.batchSize() < padded.batchSize(), packed.batchSize() + " rows");
        assertEquals(padded.tokenCount(), packed.tokenCount());
        for (LlamaFeeds.Reduction r : LlamaFeeds.Reduction.values()) {
            assertSameLossAndGradients("Tulu sample", padded, packed, r);
        }
    }

    @Test
    void eachPackedExamplesLogitsAreThoseOfTheExampleAlone() {
        List<EncodedExample> sample = TrainFixtures.sample(256).subList(0, 8);
        Batch packed = PackingCollator.pack(sample, 128);
        LlamaGraph inference = adapters.graph(weights, GraphKind.INFERENCE);
        INDArray logits = LlamaForward.run(inference, packed).logits(); // [B, T, V]
        int t = packed.seqLen();
        int[] of = packed.exampleOfToken();
        double worst = 0;
        for (int k = 0; k < sample.size(); k++) {
            INDArray alone = LlamaForward.run(inference, BatchCollator.collate(List.of(sample.get(k))))
                    .logits().get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all()); // [L, V]
            int row = -1;
            int start = -1;
            for (int p = 0; p < of.length && start < 0; p++) {
                if (of[p] == k) {
                    row = p / t;
                    start = p % t;
                }
            }
            int len = sample.get(k).length();
            INDArray inRow = logits.get(NDArrayIndex.point(row), NDArrayIndex.interval(start, start + len),
                    NDArrayIndex.all()); // [L, V]
            double rel = TestData.maxAbsDiff(alone, inRow) / alone.amaxNumber().doubleValue();
            worst = Math.max(worst, rel);
            assertTrue(rel <= TOLERANCE, "example " + k + " (row " + row + " from " + start + "): logits differ by "
                    + rel + " of the largest");
        }
        System.out.printf("8 examples packed into %d rows of %d: logits against each example alone, worst max|Δ| %.2g"
                + " of the largest logit%n", packed.batchSize(), t, worst);
    }
}
