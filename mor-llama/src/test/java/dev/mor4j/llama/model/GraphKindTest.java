package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.adapter.LlamaAdapters;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A graph's kind decides what can be asked of it: gradients come from a TRAINING graph's {@code total_loss} only,
 * and a kind with a loss refuses a batch without labels. Each refusal names what to build instead.
 */
class GraphKindTest {

    private static LlamaWeights weights;
    private static LlamaAdapters adapters;
    private static Batch batch;

    @BeforeAll
    static void load() {
        weights = LlamaModel.load(TestData.model("tiny-llama-f32")).weights();
        adapters = LlamaAdapters.create(weights, AdapterConfig.lora().rank(2).alpha(4).dropout(0.0).build(), 3);
        batch = new Batch(new long[][] {{1, 17, 400, 9}}, null, new long[][] {{1, 17, 400, 9}});
    }

    @Test
    void aTrainingGraphGivesTheGradientsOfTotalLoss() {
        LlamaGraph g = adapters.graph(weights, GraphKind.TRAINING);
        OutAndGrad r = g.gradients(g.feeds(batch, LlamaFeeds.Reduction.MEAN), adapters.weights().keySet());
        assertEquals(adapters.weights().keySet(), r.getGradients().keySet());
        assertEquals(Set.of(LlamaGraph.LOSS, LlamaGraph.TOTAL_LOSS), r.getOutputs().keySet());
        double sum = 0;
        for (INDArray v : r.getGradients().values()) {
            sum += v.norm2Number().doubleValue();
        }
        assertTrue(sum > 0, "the adapters' gradients: " + sum);
    }

    @Test
    void gradientsOfAGraphThatDoesNotTrainAreRefused() {
        for (GraphKind kind : new GraphKind[] {GraphKind.INFERENCE, GraphKind.LOSS, GraphKind.TRAINING_LOGITS}) {
            LlamaGraph g = adapters.graph(weights, kind);
            Map<String, INDArray> feeds = g.feeds(batch, LlamaFeeds.Reduction.MEAN);
            MorException e = assertThrows(MorException.class, () -> g.gradients(feeds, adapters.weights().keySet()));
            assertTrue(e.getMessage().startsWith("gradients need a TRAINING graph") && e.getMessage().endsWith(
                    "this graph is " + kind), e.getMessage());
            assertThrows(MorException.class, () -> g.gradientSource(java.util.List.copyOf(adapters.weights().keySet()),
                    (step, micro) -> null));
        }
    }

    @Test
    void theLossWithoutAGradientPathCannotBeDifferentiated() {
        LlamaGraph g = adapters.graph(weights, GraphKind.TRAINING);
        g.sd().setLossVariables(LlamaGraph.LOSS);
        MorException e = assertThrows(MorException.class,
                () -> g.gradients(g.feeds(batch, LlamaFeeds.Reduction.MEAN), adapters.weights().keySet()));
        assertEquals("the graph's loss variables were set to [loss]; its gradients are those of total_loss (loss has"
                + " no gradient path of its own)", e.getMessage());
    }

    @Test
    void aKindWithALossNeedsLabels() {
        Batch unlabelled = new Batch(new long[][] {{1, 17, 400, 9}}, null, null);
        MorException e = assertThrows(MorException.class,
                () -> LlamaGraph.base(weights, GraphKind.LOSS).feeds(unlabelled, LlamaFeeds.Reduction.MEAN));
        assertEquals("a LOSS graph computes the loss: the batch needs labels (build INFERENCE for logits alone)",
                e.getMessage());
        e = assertThrows(MorException.class, () -> adapters.graph(weights, GraphKind.TRAINING)
                .feeds(unlabelled, LlamaFeeds.Reduction.MEAN));
        assertTrue(e.getMessage().contains("build TRAINING_LOGITS"), e.getMessage());
        assertEquals(weights.config().vocabSize(),
                LlamaForward.run(LlamaGraph.base(weights, GraphKind.INFERENCE), unlabelled).logits().size(2));
    }

    @Test
    void segmentsAndTheBaseModelTakeOnlyTheKindsTheyCanBe() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaGraph.segment(weights,
                adapters.layers(), adapters.weights(), 0, 1, GraphKind.DECODE));
        assertEquals("a segment is TRAINING or INFERENCE; got DECODE", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LlamaGraph.base(weights, GraphKind.TRAINING));
    }
}
