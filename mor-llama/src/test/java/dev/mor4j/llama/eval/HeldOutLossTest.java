package dev.mor4j.llama.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.train.BatchCollator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The held-out loss is the mean per labelled token over all examples, however they are batched. */
class HeldOutLossTest {

    private static final int IGNORE = -100;

    @Test
    void batchesAreWeightedByTheirLabelledTokens() {
        LlamaModel model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        LlamaGraph graph = LlamaGraph.base(model.weights(), GraphKind.LOSS);
        List<EncodedExample> examples = List.of(
                new EncodedExample("a", "t", new int[] {1, 450, 4996, 17354, 1701},
                        new int[] {IGNORE, IGNORE, 4996, 17354, 1701}),
                new EncodedExample("b", "t", new int[] {1, 1724, 338}, new int[] {IGNORE, IGNORE, 338}),
                new EncodedExample("c", "t", new int[] {1, 319, 3290, 338}, new int[] {IGNORE, 319, 3290, 338}));
        // one batch: the mean over all 7 labels
        double all = LlamaForward.run(graph, BatchCollator.collate(examples)).loss();
        assertEquals(all, HeldOutLoss.of(graph, examples, 3, null), 1e-5);
        assertEquals(all, HeldOutLoss.of(graph, examples, 1, null), 1e-5);
        assertEquals(all, HeldOutLoss.of(graph, examples, 2, null), 1e-5);
        double first = LlamaForward.run(graph, BatchCollator.collate(examples.subList(0, 1))).loss();
        double rest = LlamaForward.run(graph, BatchCollator.collate(examples.subList(1, 3))).loss();
        assertEquals((3 * first + 4 * rest) / 7, all, 1e-5, "weights: 3 labels, then 1 + 3 labels");
        assertThrows(MorException.class, () -> HeldOutLoss.of(LlamaGraph.base(model.weights(), GraphKind.INFERENCE),
                examples, 2, null));
    }
}
