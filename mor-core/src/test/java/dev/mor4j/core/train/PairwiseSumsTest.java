package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PairwiseSumsTest {

    private static final Map<String, INDArray> PARAMS = Map.of(
            "a", Nd4j.zeros(DataType.FLOAT, 3, 5), // [3, 5]
            "b", Nd4j.zeros(DataType.FLOAT, 7)); // [7]
    private static final Map<String, long[]> SHAPES = PairwiseSums.shapesOf(PARAMS);

    /** n micro-batches of gradients whose elements span 40 binades, so that the order of additions shows. */
    private static List<Map<String, INDArray>> gradients(int n, long seed) {
        Random rng = new Random(seed);
        List<Map<String, INDArray>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, INDArray> g = new LinkedHashMap<>();
            for (Map.Entry<String, INDArray> e : PARAMS.entrySet()) {
                float[] v = new float[(int) e.getValue().length()];
                for (int j = 0; j < v.length; j++) {
                    v[j] = (float) (rng.nextGaussian() * Math.scalb(1.0, rng.nextInt(41) - 20));
                }
                g.put(e.getKey(), Nd4j.create(v, e.getValue().shape(), 'c')); // shaped like the weight
            }
            out.add(g);
        }
        return out;
    }

    private static Map<String, float[]> inOrder(List<Map<String, INDArray>> g) {
        PairwiseSums s = new PairwiseSums(SHAPES, g.size(), new ArrayDeque<>());
        for (int i = 0; i < g.size(); i++) {
            s.addMicroBatch(i, g.get(i));
        }
        return snapshot(s.total());
    }

    private static Map<String, float[]> snapshot(Map<String, INDArray> arrays) {
        Map<String, float[]> out = new LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, v.dup('c').data().asFloat()));
        return out;
    }

    private static INDArray sum(INDArray... terms) {
        INDArray s = terms[0].dup();
        for (int i = 1; i < terms.length; i++) {
            s.addi(terms[i]);
        }
        return s;
    }

    @Test
    void upToThreeMicroBatchesAddLeftToRightAndFourInPairs() {
        List<Map<String, INDArray>> g = gradients(4, 1);
        boolean orderShows = false;
        for (String k : PARAMS.keySet()) {
            INDArray g0 = g.get(0).get(k);
            INDArray g1 = g.get(1).get(k);
            INDArray g2 = g.get(2).get(k);
            INDArray g3 = g.get(3).get(k);
            assertArrayEquals(g0.data().asFloat(), inOrder(g.subList(0, 1)).get(k), k);
            assertArrayEquals(sum(g0, g1).data().asFloat(), inOrder(g.subList(0, 2)).get(k), k);
            assertArrayEquals(sum(g0, g1, g2).data().asFloat(), inOrder(g.subList(0, 3)).get(k), k);
            float[] pairs = sum(sum(g0, g1), sum(g2, g3)).data().asFloat();
            assertArrayEquals(pairs, inOrder(g).get(k), k);
            orderShows |= !java.util.Arrays.equals(pairs, sum(g0, g1, g2, g3).data().asFloat());
        }
        assertTrue(orderShows, "the data must tell (g0 + g1) + (g2 + g3) from ((g0 + g1) + g2) + g3");
    }

    @Test
    void anySplitIntoRunsMergedInAnyOrderGivesTheSameBits() {
        Random rng = new Random(5);
        for (int n = 1; n <= 11; n++) {
            List<Map<String, INDArray>> g = gradients(n, 100 + n);
            Map<String, float[]> expected = inOrder(g);
            for (int trial = 0; trial < 6; trial++) {
                // cut [0, n) into runs, as a cluster's partitions would; sum each run on its own
                List<PairwiseSums.Block> blocks = new ArrayList<>();
                int start = 0;
                while (start < n) {
                    int end = start + 1 + rng.nextInt(n - start);
                    PairwiseSums run = new PairwiseSums(SHAPES, n, new ArrayDeque<>());
                    for (int i = start; i < end; i++) {
                        run.addMicroBatch(i, g.get(i));
                    }
                    assertFalse(run.complete() && (start > 0 || end < n));
                    blocks.addAll(run.pending());
                    start = end;
                }
                // merge the blocks in a random order, part of them first in an intermediate sum (a tree level)
                Collections.shuffle(blocks, rng);
                int cut = rng.nextInt(blocks.size() + 1);
                PairwiseSums level = new PairwiseSums(SHAPES, n, new ArrayDeque<>());
                blocks.subList(0, cut).forEach(level::add);
                PairwiseSums root = new PairwiseSums(SHAPES, n, new ArrayDeque<>());
                level.pending().forEach(root::add);
                blocks.subList(cut, blocks.size()).forEach(root::add);
                assertTrue(root.complete());
                Map<String, float[]> actual = snapshot(root.total());
                for (String k : PARAMS.keySet()) {
                    assertArrayEquals(expected.get(k), actual.get(k), "n " + n + ", trial " + trial + ", " + k);
                }
            }
        }
    }

    @Test
    void inOrderAtMostLogTwoNBlocksWaitAndTheirBuffersAreReused() {
        ArrayDeque<Map<String, INDArray>> pool = new ArrayDeque<>();
        for (int n : new int[] {1, 2, 5, 8, 13, 16}) {
            int levels = 32 - Integer.numberOfLeadingZeros(n - 1);
            List<Map<String, INDArray>> g = gradients(n, n);
            PairwiseSums s = new PairwiseSums(SHAPES, n, pool);
            int most = 0;
            for (int i = 0; i < n; i++) {
                s.addMicroBatch(i, g.get(i));
                most = Math.max(most, s.pending().size());
            }
            assertTrue(most <= Math.max(1, levels), "n " + n + ": " + most + " blocks waited");
            INDArray total = s.total().get("a");
            s.release();
            assertTrue(pool.stream().anyMatch(set -> set.get("a") == total), "the total's buffers go back to the pool");
        }
    }

    @Test
    void aMicroBatchAddedTwiceOrMissingIsAnError() {
        List<Map<String, INDArray>> g = gradients(4, 9);
        PairwiseSums s = new PairwiseSums(SHAPES, 4, new ArrayDeque<>());
        s.addMicroBatch(0, g.get(0));
        s.addMicroBatch(1, g.get(1));
        MorException twice = assertThrows(MorException.class, () -> s.addMicroBatch(1, g.get(1)));
        assertEquals("micro-batch 1 of the step was added twice", twice.getMessage());
        s.addMicroBatch(3, g.get(3));
        IllegalStateException missing = assertThrows(IllegalStateException.class, s::total);
        assertEquals("the sum has 3 of its 4 micro-batches", missing.getMessage());
        MorException outside = assertThrows(MorException.class,
                () -> s.add(new PairwiseSums.Block(1, 2, g.get(2))));
        assertTrue(outside.getMessage().contains("lies outside the 4 micro-batches"), outside.getMessage());
        MorException shape = assertThrows(MorException.class,
                () -> s.addMicroBatch(2, Map.of("a", Nd4j.zeros(DataType.FLOAT, 5, 3), "b", g.get(2).get("b"))));
        assertEquals("gradient of 'a' has shape [5, 3]; expected the weight's shape [3, 5]", shape.getMessage());
    }
}
