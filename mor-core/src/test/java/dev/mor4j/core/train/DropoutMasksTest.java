package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class DropoutMasksTest {

    private static final String Q = "layers.0.q_proj.dropout_mask";
    private static final String V = "layers.0.v_proj.dropout_mask";

    private static Map<String, float[]> fill(Map<String, Integer> masks, long step, int mb) {
        Map<String, Double> rates = Map.of(Q, 0.1, V, 0.3);
        Map<String, float[]> out = new LinkedHashMap<>();
        DropoutMasks.fill(masks, rates, 64, 1234, step, mb).forEach((k, a) -> {
            assertEquals(DataType.FLOAT, a.dataType());
            assertArrayEquals(new long[] {64, masks.get(k)}, a.shape());
            out.put(k, a.data().asFloat());
        });
        return out;
    }

    private static Map<String, Integer> qv() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put(Q, 128);
        m.put(V, 96);
        return m;
    }

    @Test
    void sameCoordinatesGiveTheSameBitsWhateverTheMapOrder() {
        Map<String, float[]> a = fill(qv(), 5, 1);
        Map<String, Integer> reversed = new LinkedHashMap<>();
        reversed.put(V, 96);
        reversed.put(Q, 128);
        fill(qv(), 6, 0); // other draws in between change nothing
        Map<String, float[]> b = fill(reversed, 5, 1);
        assertArrayEquals(a.get(Q), b.get(Q));
        assertArrayEquals(a.get(V), b.get(V));
    }

    @Test
    void otherStepMicroBatchOrSeedGiveOtherMasks() {
        float[] base = fill(qv(), 5, 1).get(Q);
        assertFalse(Arrays.equals(base, fill(qv(), 6, 1).get(Q)));
        assertFalse(Arrays.equals(base, fill(qv(), 5, 0).get(Q)));
        INDArray otherSeed = DropoutMasks.fill(Map.of(Q, 128), Map.of(Q, 0.1), 64, 1235, 5, 1).get(Q);
        assertFalse(Arrays.equals(base, otherSeed.data().asFloat()));
    }

    @Test
    void valuesAreZeroOrInverseKeepProbabilityAtTheRightRate() {
        double p = 0.3;
        INDArray m = DropoutMasks.fill(Map.of(V, 1000), Map.of(V, p), 200, 9, 0, 0).get(V);
        float keep = (float) (1 / (1 - p));
        long zeros = 0;
        for (float f : m.data().asFloat()) {
            assertTrue(f == 0f || f == keep, "value " + f);
            if (f == 0f) {
                zeros++;
            }
        }
        double rate = zeros / 200_000.0;
        double sigma = Math.sqrt(p * (1 - p) / 200_000.0);
        assertEquals(p, rate, 5 * sigma, "dropped fraction");
    }

    @Test
    void zeroRateKeepsEverything() {
        INDArray m = DropoutMasks.fill(Map.of(Q, 8), Map.of(Q, 0.0), 4, 1, 2, 3).get(Q);
        assertEquals(32.0, m.sumNumber().doubleValue());
    }

    @Test
    void badRatesAreRefused() {
        MorException e = assertThrows(MorException.class,
                () -> DropoutMasks.fill(Map.of(Q, 8), Map.of(Q, 1.0), 4, 1, 2, 3));
        assertTrue(e.getMessage().contains(Q) && e.getMessage().contains("[0, 1)"), e.getMessage());
        assertThrows(MorException.class, () -> DropoutMasks.fill(Map.of(Q, 8), Map.of(), 4, 1, 2, 3));
    }

    @Test
    void permutationsAreDeterministicPermutationsThatChangeWithTheEpoch() {
        int[] a = Seeds.permutation(50, 7, 0);
        assertArrayEquals(a, Seeds.permutation(50, 7, 0));
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 50; i++) {
            assertEquals(i, sorted[i]);
        }
        assertFalse(Arrays.equals(a, Seeds.permutation(50, 7, 1)));
        assertFalse(Arrays.equals(a, Seeds.permutation(50, 8, 0)));
        assertTrue(Seeds.derive(1, 2, 3) != Seeds.derive(1, 3, 2));
        assertTrue(Seeds.derive(1, 2) != Seeds.derive(1, 2, 0));
    }
}
