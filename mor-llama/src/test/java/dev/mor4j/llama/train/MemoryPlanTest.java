package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mor4j.core.TestData;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plan counts the head's [·, V] arrays at the labelled positions, and a 16-bit head's widened block. */
class MemoryPlanTest {

    private static EncodedExample example(String id, int length, int labelled) {
        int[] ids = new int[length];
        int[] labels = new int[length];
        for (int t = 0; t < length; t++) {
            labels[t] = t >= length - labelled ? 5 : -100;
        }
        return new EncodedExample(id, "d", ids, labels);
    }

    @Test
    void mostLabelledIsTheSumOfTheLargestCounts() {
        List<EncodedExample> ex = List.of(example("a", 10, 3), example("b", 10, 7), example("c", 10, 5),
                example("d", 4, 1));
        assertEquals(12, LlamaFineTune.mostLabelled(ex, 2));
        assertEquals(16, LlamaFineTune.mostLabelled(ex, 8));
    }

    @Test
    void theHeadIsCountedAtTheLabelledPositions() {
        LlamaWeights w = LlamaModel.load(TestData.model("tiny-llama-bf16")).weights();
        MemoryPlan all = MemoryPlan.of(w, 1000, 2, 64);
        MemoryPlan some = MemoryPlan.of(w, 1000, 2, 64, 40);
        double fewer = MemoryPlan.MARGIN * 4 * MemoryPlan.C_VOCAB * (128 - 40) * 32000;
        assertEquals(fewer, all.activationBytes() - some.activationBytes(), 2.0);
        // with recomputation the head runs one vocabulary block at a time: C_BLOCK [m, V_b] and 4 [m, H] arrays
        // (here one block: V_b = V), which outweigh a layer of this model
        double fewerByBlocks = MemoryPlan.MARGIN * 4 * (MemoryPlan.C_BLOCK * (128 - 40) * 32000 + 4 * (128 - 40) * 32);
        assertEquals(fewerByBlocks, all.recomputeBytes() - some.recomputeBytes(), 2.0);
        assertEquals(all.activationBytes(), MemoryPlan.of(w, 1000, 2, 64, 500).activationBytes(),
                "no more labelled positions than tokens");
        // a 16-bit head is widened one block at a time: the plan counts the largest block, not the whole head
        MemoryPlan blocks = MemoryPlan.of(w.withHeadBlocks(32000L * 32 / 4), 1000, 2, 64);
        double saved = MemoryPlan.MARGIN * 4 * (32000 * 32 - 8000 * 32);
        assertEquals(saved, all.activationBytes() - blocks.activationBytes(), 2.0);
        assertEquals(all.weightBytes(), blocks.weightBytes());
    }
}
