package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PackingCollatorTest {

    private static final long X = Batch.IGNORE_INDEX;

    /** An example of {@code len} tokens {@code base, base+1, …}, the second half labelled. */
    private static EncodedExample example(String id, int len, int base) {
        int[] ids = new int[len];
        int[] labels = new int[len];
        for (int j = 0; j < len; j++) {
            ids[j] = base + j;
            labels[j] = j >= len / 2 ? base + j : -100;
        }
        return new EncodedExample(id, "d" + id, ids, labels);
    }

    @Test
    void firstFitDecreasingKeepsEachExampleWholeInOneRow() {
        // lengths 3, 6, 4, 2, 5 into rows of 8: 6 → row 0; 5 → row 1; 4 → row 2; 3 → row 1; 2 → row 0
        List<EncodedExample> ex = List.of(example("a", 3, 100), example("b", 6, 200), example("c", 4, 300),
                example("d", 2, 400), example("e", 5, 500));
        assertEquals(List.of(List.of(1, 3), List.of(4, 0), List.of(2)), PackingCollator.place(ex, 8));
        Batch b = PackingCollator.pack(ex, 8);
        assertEquals(3, b.batchSize());
        assertEquals(8, b.seqLen(), "as long as the fullest row");
        assertEquals(5, b.exampleCount());
        assertEquals(20, b.tokenCount());
        assertArrayEquals(new long[] {200, 201, 202, 203, 204, 205, 400, 401}, b.inputIds()[0]);
        assertArrayEquals(new long[] {X, X, X, 203, 204, 205, X, 401}, b.labels()[0], "each example's first label −100");
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 3, 3}, b.exampleOf()[0]);
        assertArrayEquals(new long[] {500, 501, 502, 503, 504, 100, 101, 102}, b.inputIds()[1]);
        assertArrayEquals(new long[] {X, X, 502, 503, 504, X, 101, 102}, b.labels()[1]);
        assertArrayEquals(new int[] {4, 4, 4, 4, 4, 0, 0, 0}, b.exampleOf()[1]);
        assertArrayEquals(new long[] {300, 301, 302, 303, 0, 0, 0, 0}, b.inputIds()[2]);
        assertArrayEquals(new long[] {1, 1, 1, 1, 0, 0, 0, 0}, b.attentionMask()[2]);
        assertArrayEquals(new long[] {X, X, 302, 303, X, X, X, X}, b.labels()[2]);
        assertArrayEquals(new int[] {2, 2, 2, 2, 2, 2, 2, 2}, b.exampleOf()[2], "padding belongs to the row's last example");
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 0, 1}, java.util.Arrays.copyOfRange(b.positions(), 0, 8));
    }

    @Test
    void everyExampleAppearsOnceWithItsTokensAndLabels() {
        List<EncodedExample> ex = new ArrayList<>();
        java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
        for (int i = 0; i < 40; i++) {
            ex.add(example("x" + i, 1 + rng.nextInt(30), 1000 * i));
        }
        Batch b = PackingCollator.pack(ex, 32);
        assertTrue(b.batchSize() < 40, "packed into fewer rows than examples: " + b.batchSize());
        assertEquals(40, b.exampleCount());
        int[] seen = new int[40];
        int[] of = b.exampleOfToken();
        for (int i = 0; i < b.batchSize(); i++) {
            for (int j = 0; j < b.seqLen(); j++) {
                if (b.attentionMask()[i][j] == 0) {
                    continue;
                }
                int k = of[i * b.seqLen() + j];
                int p = b.positions()[i * b.seqLen() + j];
                EncodedExample e = ex.get(k);
                assertEquals(e.inputIds()[p], b.inputIds()[i][j]);
                assertEquals(p == 0 ? X : e.labels()[p], b.labels()[i][j]);
                seen[k]++;
            }
        }
        for (int k = 0; k < 40; k++) {
            assertEquals(ex.get(k).length(), seen[k], "tokens of example " + k);
        }
    }

    @Test
    void anExampleLongerThanARowOrEmptyIsRefused() {
        MorException longer = assertThrows(MorException.class,
                () -> PackingCollator.pack(List.of(example("a", 3, 1), example("big", 9, 1)), 8));
        assertTrue(longer.getMessage().contains("example big has 9 tokens; a packed row holds at most 8"),
                longer.getMessage());
        assertThrows(MorException.class, () -> PackingCollator.pack(List.of(), 8));
        MorException empty = assertThrows(MorException.class,
                () -> PackingCollator.pack(List.of(new EncodedExample("e", "d", new int[0], new int[0])), 8));
        assertTrue(empty.getMessage().contains("example e has no tokens"), empty.getMessage());
    }
}
