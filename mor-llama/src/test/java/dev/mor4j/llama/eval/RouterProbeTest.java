package dev.mor4j.llama.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Router weights per task on prompts: each prompt's mean over its tokens, averaged per task with every prompt
 * counting once, the same whether prompts are measured alone or padded into one batch.
 */
class RouterProbeTest {

    private static LlamaModel model;
    private static final List<int[]> PROMPTS = List.of(new int[] {1, 450, 4996, 17354, 1701, 29916},
            new int[] {1, 1724}, new int[] {1, 319, 3290, 338, 263});

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
    }

    private static LlamaGraph graph(RouterType router) {
        LlamaAdapters mor = LlamaAdapters.create(model.weights(),
                AdapterConfig.mor().experts(4).router(router).build(), 7);
        return mor.graph(model.weights(), GraphKind.INFERENCE);
    }

    @Test
    void aTaskIsTheMeanOfItsPromptsMeansWhateverTheBatching() {
        LlamaGraph graph = graph(RouterType.SOFTMAX);
        RouterProbe.TaskWeights alone = RouterProbe.measure(graph, PROMPTS, List.of("p0", "p1", "p2"), 1);
        RouterProbe.TaskWeights together = RouterProbe.measure(graph, PROMPTS, List.of("a", "b", "a"), 3);
        assertEquals(List.of("a", "b"), together.tasks());
        assertArrayEquals(new int[] {2, 1}, together.prompts());
        assertEquals(6, together.modules().size(), "gate, up and down of 2 layers");
        assertEquals(4, together.experts());
        for (int m = 0; m < 6; m++) {
            double[] p0 = alone.of("p0")[m];
            double[] p2 = alone.of("p2")[m];
            double sum = 0;
            for (int e = 0; e < 4; e++) {
                assertEquals((p0[e] + p2[e]) / 2, together.of("a")[m][e], 1e-6, "module " + m + " expert " + e);
                assertEquals(alone.of("p1")[m][e], together.of("b")[m][e], 1e-6, "module " + m + " expert " + e);
                sum += together.of("a")[m][e];
            }
            assertEquals(1.0, sum, 1e-6);
        }
        boolean differs = false;
        for (int e = 0; e < 4; e++) {
            differs |= Math.abs(alone.of("p0")[0][e] - alone.of("p1")[0][e]) > 1e-4;
        }
        assertTrue(differs, "a random softmax router weighs different prompts differently");
    }

    @Test
    void theMeanRouterGivesEveryExpertAQuarterAndAdaptersWithoutRouterAreRefused() {
        RouterProbe.TaskWeights mean = RouterProbe.measure(graph(RouterType.MEAN), PROMPTS, List.of("a", "a", "b"), 2);
        for (double[][] task : mean.weights()) {
            for (double[] module : task) {
                assertArrayEquals(new double[] {0.25, 0.25, 0.25, 0.25}, module, 1e-7);
            }
        }
        LlamaGraph lora = LlamaAdapters.create(model.weights(), AdapterConfig.lora().build(), 7)
                .graph(model.weights(), GraphKind.INFERENCE);
        MorException e = assertThrows(MorException.class,
                () -> RouterProbe.measure(lora, PROMPTS, List.of("a", "a", "b"), 2));
        assertTrue(e.getMessage().contains("no router"), e.getMessage());
    }
}
