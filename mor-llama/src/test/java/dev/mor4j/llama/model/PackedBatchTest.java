package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.config.LlamaConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A packed {@link Batch}: its checks, and the positions, attention bias and targets {@link LlamaFeeds} gives it. */
class PackedBatchTest {

    private static final long X = Batch.IGNORE_INDEX;

    /** Row 0: example 0 (3 tokens) then example 2 (2 tokens); row 1: example 1 (3 tokens) and 2 padding. */
    private static Batch packed() {
        long[][] ids = {{1, 5, 6, 1, 7}, {1, 8, 9, 0, 0}};
        long[][] mask = {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}};
        long[][] labels = {{X, 5, 6, X, 7}, {X, 8, 9, X, X}};
        int[][] exampleOf = {{0, 0, 0, 2, 2}, {1, 1, 1, 1, 1}};
        return new Batch(ids, mask, labels, new long[] {10, 11, 12}, exampleOf);
    }

    @Test
    void examplesPositionsAndTasksFollowThePacking() {
        Batch b = packed();
        assertTrue(b.isPacked());
        assertEquals(3, b.exampleCount());
        assertArrayEquals(new int[] {0, 0, 0, 2, 2, 1, 1, 1, 1, 1}, b.exampleOfToken());
        assertArrayEquals(new int[] {0, 1, 2, 0, 1, 0, 1, 2, 3, 4}, b.positions(), "restart at each example");
        assertArrayEquals(new long[] {10, 11, 12}, b.taskIds());
        assertArrayEquals(b.exampleOf(), b.withTaskIds(new long[] {1, 2, 3}).exampleOf());
        Batch unpacked = new Batch(b.inputIds(), b.attentionMask(), b.labels());
        assertEquals(2, unpacked.exampleCount());
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 1, 1, 1, 1, 1}, unpacked.exampleOfToken());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 0, 1, 2, 3, 4}, unpacked.positions());
    }

    @Test
    void feedsConfineAttentionToEachExampleAndRestartPositions() {
        LlamaConfig config = LlamaModel.load(TestData.model("tiny-llama-f32")).config();
        Map<String, INDArray> f = LlamaFeeds.of(config, packed(), true, LlamaFeeds.Reduction.SUM);
        assertArrayEquals(new long[] {10}, f.get(LlamaGraph.POSITION_IDS).shape(), "[B·T] when packed");
        assertArrayEquals(new int[] {0, 1, 2, 0, 1, 0, 1, 2, 3, 4}, f.get(LlamaGraph.POSITION_IDS).toIntVector());
        INDArray bias = f.get(LlamaGraph.ATTN_BIAS); // [B, 1, T, T]
        boolean[][] row0 = {
            {true, false, false, false, false},
            {true, true, false, false, false},
            {true, true, true, false, false},
            {false, false, false, true, false},
            {false, false, false, true, true}};
        for (int q = 0; q < 5; q++) {
            for (int k = 0; k < 5; k++) {
                float expected = row0[q][k] ? 0f : LlamaFeeds.MASKED;
                assertEquals(expected, bias.getFloat(0, 0, q, k), "row 0, query " + q + ", key " + k);
            }
        }
        assertEquals(0f, bias.getFloat(1, 0, 2, 0));
        assertEquals(LlamaFeeds.MASKED, bias.getFloat(1, 0, 2, 3), "padding is never attended");
        // targets: 5, 6 of example 0; nothing across the boundary at position 2; 7 of example 2; 8, 9 of example 1
        assertArrayEquals(new int[] {0, 1, 3, 5, 6}, f.get(LlamaGraph.LABEL_ROWS).toIntVector());
        assertArrayEquals(new int[] {5, 6, 7, 8, 9}, f.get(LlamaGraph.LABEL_IDS).toIntVector());
        assertArrayEquals(new float[] {1, 1, 1, 1, 1}, f.get(LlamaGraph.LABEL_WEIGHT).toFloatVector());

        Batch boundaryLabelled = new Batch(packed().inputIds(), packed().attentionMask(),
                new long[][] {{X, 5, 6, 1, 7}, {X, 8, 9, X, X}}, null, packed().exampleOf());
        Map<String, INDArray> g = LlamaFeeds.of(config, boundaryLabelled, true, LlamaFeeds.Reduction.SUM);
        assertArrayEquals(new int[] {0, 1, 3, 5, 6}, g.get(LlamaGraph.LABEL_ROWS).toIntVector(),
                "the last token of an example (row 2) predicts nothing, whatever the next example's first label");

        Map<String, INDArray> unpacked = LlamaFeeds.of(config, new Batch(packed().inputIds(), null, null), false,
                LlamaFeeds.Reduction.MEAN);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, unpacked.get(LlamaGraph.POSITION_IDS).toIntVector(), "[T] shared");
    }

    @Test
    void aBrokenLayoutIsRefusedWithTheFirstBadPosition() {
        long[][] ids = {{1, 2, 3, 4}, {1, 2, 0, 0}};
        long[][] mask = {{1, 1, 1, 1}, {1, 1, 0, 0}};
        assertMessage("example 0 already filled positions earlier in this row",
                () -> new Batch(ids, mask, null, null, new int[][] {{0, 1, 0, 0}, {2, 2, 2, 2}}));
        assertMessage("example 0 already filled positions of row 0",
                () -> new Batch(ids, mask, null, null, new int[][] {{0, 0, 1, 1}, {0, 0, 0, 0}}));
        assertMessage("example 1 has no position",
                () -> new Batch(ids, mask, null, null, new int[][] {{0, 0, 2, 2}, {3, 3, 3, 3}}));
        assertMessage("example 2 (row 1) has only padding",
                () -> new Batch(ids, mask, null, null, new int[][] {{0, 0, 1, 1}, {3, 3, 2, 2}}));
        assertMessage("example_of[1]: expected length 4, got 3",
                () -> new Batch(ids, mask, null, null, new int[][] {{0, 0, 1, 1}, {2, 2, 2}}));
        assertMessage("task_ids: expected 3 (one per example), got 2",
                () -> new Batch(ids, mask, null, new long[] {0, 1}, new int[][] {{0, 0, 1, 1}, {2, 2, 2, 2}}));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        MorException ex = assertThrows(MorException.class, e);
        assertTrue(ex.getMessage().contains(part), ex.getMessage());
    }
}
