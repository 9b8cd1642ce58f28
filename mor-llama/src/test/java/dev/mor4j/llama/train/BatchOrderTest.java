package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BatchOrderTest {

    private static int[] lengths(int n) {
        int[] l = new int[n];
        for (int i = 0; i < n; i++) {
            l[i] = 1 + (i * 37) % 101;
        }
        return l;
    }

    @Test
    void everyEpochVisitsEveryExampleOnceInItsOwnSeededOrder() {
        BatchOrder o = new BatchOrder(lengths(10), 4, 42, false);
        assertEquals(3, o.batchesPerEpoch());
        for (long epoch = 0; epoch < 3; epoch++) {
            int[] seen = new int[0];
            for (int b = 0; b < 3; b++) {
                int[] batch = o.batch(epoch, b);
                assertEquals(b < 2 ? 4 : 2, batch.length, "the last batch holds the rest");
                seen = concat(seen, batch);
            }
            int[] sorted = seen.clone();
            Arrays.sort(sorted);
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sorted);
            assertArrayEquals(seen, o.order(epoch));
        }
        assertFalse(Arrays.equals(o.order(0), o.order(1)), "each epoch is shuffled anew");
        assertArrayEquals(o.order(1), new BatchOrder(lengths(10), 4, 42, false).order(1), "deterministic");
        assertFalse(Arrays.equals(o.order(0), new BatchOrder(lengths(10), 4, 43, false).order(0)), "seeded");
    }

    @Test
    void groupingByLengthSortsEachMegaBatchLongestFirst() {
        int[] len = lengths(500);
        int batch = 2; // mega-batches of 100 examples
        BatchOrder grouped = new BatchOrder(len, batch, 7, true);
        int[] plain = new BatchOrder(len, batch, 7, false).order(3);
        int[] order = grouped.order(3);
        for (int from = 0; from < 500; from += 100) {
            int[] chunk = Arrays.copyOfRange(order, from, from + 100);
            int[] expected = Arrays.copyOfRange(plain, from, from + 100);
            int[] a = chunk.clone();
            int[] b = expected.clone();
            Arrays.sort(a);
            Arrays.sort(b);
            assertArrayEquals(b, a, "a mega-batch holds the same examples as the shuffled order");
            for (int i = 1; i < chunk.length; i++) {
                assertTrue(len[chunk[i - 1]] >= len[chunk[i]], "sorted longest first");
            }
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
