package dev.mor4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.TestData;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.LlamaWeights;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark's training step on the bundled model, with every token labelled or after an unlabelled prompt. */
class TrainingStepTest {

    private static final Path TESTDATA = TestData.root();

    @Test
    void theLossCoversThePositionsAfterThePrompt() {
        LlamaWeights weights = LlamaModel.load(TESTDATA.resolve("models/tiny-llama-f32")).weights();
        AdapterConfig mor = Variant.MOR_EXPANDED.config(List.of("gate_proj", "up_proj", "down_proj"));
        TrainingStep all = new TrainingStep(weights, mor, 12, 7);
        TrainingStep answer = new TrainingStep(weights, mor, 12, 6, 7, false);
        assertEquals(11, all.feeds().get(LlamaGraph.LABEL_ROWS).length(), "every position but the last");
        assertEquals(6, answer.feeds().get(LlamaGraph.LABEL_ROWS).length(), "positions 5 … 10 predict tokens 6 … 11");
        assertEquals(5, answer.feeds().get(LlamaGraph.LABEL_ROWS).getInt(0));
        double before = answer.forward();
        assertTrue(Double.isFinite(before) && before > 0, "loss " + before);
        assertNotEquals(all.forward(), before, "a different set of positions");
        answer.step();
        assertEquals(1, answer.trainer().globalStep());
        assertThrows(IllegalArgumentException.class, () -> new TrainingStep(weights, mor, 12, 12, 7, false));
    }
}
