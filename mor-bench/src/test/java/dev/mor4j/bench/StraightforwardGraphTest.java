package dev.mor4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The benchmarks' "before" graphs compute what the library's graphs compute. */
class StraightforwardGraphTest {

    /**
     * Relative to the larger of the array's own scale and 0.01: with Ω = 1 every expert computes the same, so the
     * router's exact gradient is zero and both graphs give rounding noise of about 1e-8 there.
     */
    private static void assertClose(INDArray expected, INDArray actual, String what) {
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()), what);
        double scale = expected.amaxNumber().doubleValue();
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-5 * Math.max(scale, 1e-2), what + ": max |Δ| " + diff + " at scale " + scale);
    }

    @Test
    void sameOutputAndGradientsAsTheLibraryGraphs() {
        for (boolean mor : new boolean[] {false, true}) {
            Variant v = mor ? Variant.MOR_EXPANDED : Variant.BASE;
            ProjectionGraph library = new ProjectionGraph(v, 24, 40, 5, 3);
            StraightforwardGraph plain = new StraightforwardGraph(mor, 24, 40, 5, 3);
            assertClose(library.forward(), plain.forward(), v + " y");
            Map<String, INDArray> expected = library.forwardBackward();
            Map<String, INDArray> actual = plain.forwardBackward();
            assertEquals(library.gradientNames(), plain.gradientNames());
            assertEquals(mor ? 6 : 1, expected.size());
            for (String name : library.gradientNames()) {
                assertClose(expected.get(name), actual.get(name), v + " d" + name);
            }
        }
    }
}
