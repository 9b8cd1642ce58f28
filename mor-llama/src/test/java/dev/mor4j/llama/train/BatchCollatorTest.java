package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchCollatorTest {

    @Test
    void padsOnTheRightWithZeroIdsNoAttentionAndIgnoredLabels() {
        EncodedExample a = new EncodedExample("a", "x", new int[] {1, 5, 6}, new int[] {-100, 5, 6});
        EncodedExample b = new EncodedExample("b", "y", new int[] {1, 7, 8, 9, 10}, new int[] {-100, -100, 8, 9, 10});
        Batch batch = BatchCollator.collate(List.of(a, b));
        assertEquals(2, batch.batchSize());
        assertEquals(5, batch.seqLen());
        assertArrayEquals(new long[] {1, 5, 6, 0, 0}, batch.inputIds()[0]);
        assertArrayEquals(new long[] {1, 1, 1, 0, 0}, batch.attentionMask()[0]);
        assertArrayEquals(new long[] {-100, 5, 6, -100, -100}, batch.labels()[0]);
        assertArrayEquals(new long[] {1, 7, 8, 9, 10}, batch.inputIds()[1]);
        assertArrayEquals(new long[] {1, 1, 1, 1, 1}, batch.attentionMask()[1]);
        assertArrayEquals(new long[] {-100, -100, 8, 9, 10}, batch.labels()[1]);
        assertEquals(8, batch.tokenCount());
    }

    @Test
    void anEmptyBatchIsAnError() {
        assertThrows(MorException.class, () -> BatchCollator.collate(List.of()));
    }
}
