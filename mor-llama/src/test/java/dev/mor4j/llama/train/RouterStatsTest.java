package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Router statistics count each real token for its own example's dataset, padded or packed. */
class RouterStatsTest {

    private static EncodedExample example(String dataset, int len) {
        return new EncodedExample(dataset + len, dataset, new int[len], new int[len]);
    }

    /** Router weights of one module, {@code [B·T, 2]}: (1, 0) at even positions, (0, 1) at odd ones. */
    private static INDArray alternating(Batch b) {
        int n = b.batchSize() * b.seqLen();
        INDArray w = Nd4j.zeros(DataType.FLOAT, n, 2); // [B·T, N]
        for (int p = 0; p < n; p++) {
            w.putScalar(p, p % 2, 1.0);
        }
        return w;
    }

    @Test
    void packedRowsCountEachTokenForItsExamplesDataset() {
        // lengths 3 (a), 2 (b), 1 (a) in rows of 4: row 0 = a3 then a1, row 1 = b2 and 2 padding
        List<EncodedExample> ex = List.of(example("a", 3), example("b", 2), example("a", 1));
        Batch packed = PackingCollator.pack(ex, 4);
        assertArrayEquals(new int[] {0, 0, 0, 2, 1, 1, 1, 1}, packed.exampleOfToken());
        RouterStats stats = new RouterStats(List.of("m"), 2);
        stats.add(List.of(alternating(packed)), packed, ex.stream().map(EncodedExample::dataset).toList());
        assertEquals(4, stats.tokens("a"));
        assertEquals(2, stats.tokens("b"), "padding does not count");
        assertArrayEquals(new double[] {0.5, 0.5}, stats.mean("a")[0], 1e-12); // positions 0, 1, 2, 3
        assertArrayEquals(new double[] {0.5, 0.5}, stats.mean("b")[0], 1e-12); // positions 4, 5

        Batch padded = BatchCollator.collate(ex);
        RouterStats same = new RouterStats(List.of("m"), 2);
        same.add(List.of(alternating(padded)), padded, List.of("a", "b", "a"));
        assertEquals(4, same.tokens("a"));
        assertEquals(2, same.tokens("b"));
        // padded rows of 3: a at 0, 1, 2 and 6; b at 3, 4
        assertArrayEquals(new double[] {0.75, 0.25}, same.mean("a")[0], 1e-12);

        assertThrows(IllegalArgumentException.class,
                () -> stats.add(List.of(alternating(packed)), packed, List.of("a", "b")), "one dataset per example");
    }
}
