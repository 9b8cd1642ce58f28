package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.OmegaInit;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.nn.OpTrace;
import dev.mor4j.core.nn.SessionMemory;
import dev.mor4j.core.train.GradientFunction;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.adapter.LlamaAdapters;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The training graph's loss: the head runs on the {@code L} labelled positions only, so nothing over
 * {@code [B·T, V]} runs at all; the loss's gradient with respect to the final hidden states is computed in the
 * forward pass, so the backward pass runs nothing over {@code [L, V]}, and reading {@code loss} alone does not run
 * the product that gradient needs. (That the gradient is right is {@link LlamaGradientCheckTest}'s and
 * {@link LabelledLossTest}'s job.)
 */
class LossGradientPathTest {

    private static final long TOKENS = 14; // B·T
    private static final long LABELLED = 8; // L: positions whose next token is a label
    private static final long VOCAB = 32000;
    private static final long HIDDEN = 32;

    private static LlamaGraph graph;
    private static Map<String, INDArray> feeds;
    private static List<String> trainables;
    /** The ops of reading {@code loss} alone, and of a gradient pass. */
    private static final OpTrace LOSS_ONLY = new OpTrace();
    private static final OpTrace GRADIENTS = new OpTrace();

    @BeforeAll
    static void build() {
        LlamaWeights weights = LlamaModel.load(TestData.model("tiny-llama-f32")).weights();
        AdapterConfig cfg = AdapterConfig.mor().rank(4).alpha(8).dropout(0.0).experts(3).router(RouterType.SOFTMAX)
                .omegaInit(OmegaInit.RANDOM).build();
        LlamaAdapters adapters = LlamaAdapters.create(weights, cfg, 11);
        graph = adapters.graph(weights, GraphKind.TRAINING);
        long[][] ids = {{1, 17, 400, 9, 2000, 31999, 5}, {1, 8, 77, 3, 0, 0, 0}};
        long[][] mask = {{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0, 0}};
        long[][] labels = {{1, 17, 400, Batch.IGNORE_INDEX, 2000, 31999, 5}, {1, 8, 77, 3, -100, -100, -100}};
        feeds = LlamaFeeds.of(weights.config(), new Batch(ids, mask, labels), true, LlamaFeeds.Reduction.MEAN);
        trainables = new ArrayList<>(adapters.weights().keySet());
        graph.sd().setListeners(LOSS_ONLY);
        SessionMemory.output(graph.sd(), feeds, LlamaGraph.LOSS);
        graph.sd().setListeners(GRADIENTS);
        graph.gradients(feeds, trainables);
        graph.sd().setListeners();
    }

    @Test
    void theHeadRunsOnTheLabelledPositionsOnly() {
        assertEquals(LABELLED, feeds.get(LlamaGraph.LABEL_ROWS).length(), "labelled positions");
        assertEquals(Set.of(), LOSS_ONLY.producing(TOKENS, VOCAB), "reading the loss");
        assertEquals(Set.of(), GRADIENTS.producing(TOKENS, VOCAB), "the gradient pass");
        assertTrue(LOSS_ONLY.producing(LABELLED, VOCAB).size() >= 3, "logits, shift, exp: " + LOSS_ONLY);
    }

    @Test
    void backwardPassRunsNothingOverTheVocabulary() {
        Set<String> forward = LOSS_ONLY.producing(LABELLED, VOCAB);
        assertTrue(forward.size() >= 3, "logits, shift, exp: " + forward);
        Set<String> extra = new LinkedHashSet<>(GRADIENTS.producing(LABELLED, VOCAB));
        assertTrue(extra.containsAll(forward), "the gradient pass runs the loss's forward ops: " + extra);
        extra.removeAll(forward);
        // the one extra [L, V] array: exp with Σexp subtracted at each label, the gradient product's input
        assertEquals(1, extra.size(), "ops over [L, V] in the gradient pass beyond the loss's: " + extra);
        OpTrace.Execution labelShift = GRADIENTS.executions().stream()
                .filter(e -> extra.contains(e.name())).findFirst().orElseThrow();
        OpTrace.Execution product = gradientProducts(GRADIENTS).get(0);
        assertTrue(product.inputs().containsAll(labelShift.outputs()), labelShift + " feeds " + product);
        assertEquals(1, GRADIENTS.count("exp"), "exp over the vocabulary once");
    }

    @Test
    void readingTheLossDoesNotComputeItsGradient() {
        assertEquals(1, gradientProducts(GRADIENTS).size(), "in the gradient pass: " + gradientProducts(GRADIENTS));
        assertEquals(List.of(), gradientProducts(LOSS_ONLY), "reading the loss");
    }

    /** The gradient's product [L, V]·[V, H]: the ops that take an [L, V] array to [L, H]. */
    private static List<OpTrace.Execution> gradientProducts(OpTrace trace) {
        String vocabWide = Arrays.toString(new long[] {LABELLED, VOCAB});
        return trace.executions().stream()
                .filter(e -> e.outputs(LABELLED, HIDDEN) && e.inputShapes().contains(vocabWide)).toList();
    }

    @Test
    void totalLossEqualsTheLossExactly() {
        OutAndGrad r = graph.gradients(feeds, trainables);
        double loss = r.getOutputs().get(LlamaGraph.LOSS).getDouble(0);
        assertEquals(loss, r.getOutputs().get(LlamaGraph.TOTAL_LOSS).getDouble(0), 0.0);
        assertEquals(loss, SessionMemory.output(graph.sd(), feeds, LlamaGraph.LOSS).get(LlamaGraph.LOSS).getDouble(0), 0.0);
        assertTrue(loss > 9 && loss < 12, "about ln 32000 = 10.4 for a random model: " + loss);
    }
}
