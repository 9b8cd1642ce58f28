package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GradClipTest {

    private static List<INDArray> grads() {
        // two tensors whose norms are 5 and 12: global norm 13
        return List.of(Nd4j.create(new float[] {3f, 4f}, new long[] {2}, DataType.FLOAT),
                Nd4j.create(new float[] {12f, 0f, 0f, 0f}, new long[] {2, 2}, DataType.FLOAT));
    }

    @Test
    void globalNormIsTheNormOfAllTensorsTogether() {
        assertEquals(13.0, GradClip.totalNorm(grads()), 1e-12);
    }

    @Test
    void scalesByMaxNormOverNormPlusEpsilonLikeTorch() {
        List<INDArray> g = grads();
        double coef = GradClip.clip(g, 13.0, 1.0);
        double expected = 1.0 / (13.0 + 1e-6);
        assertEquals(expected, coef, 0.0);
        assertArrayEquals(new float[] {(float) (3 * expected), (float) (4 * expected)}, g.get(0).data().asFloat(), 1e-7f);
        assertArrayEquals(new float[] {(float) (12 * expected), 0f, 0f, 0f}, g.get(1).data().asFloat(), 1e-7f);
        assertEquals(1.0, GradClip.totalNorm(g), 1e-6);
    }

    @Test
    void normAtTheThresholdIsStillScaledSlightlyAsInTorch() {
        List<INDArray> g = grads();
        double coef = GradClip.clip(g, 13.0, 13.0);
        assertTrue(coef < 1.0);
        assertEquals(13.0 / (13.0 + 1e-6), coef, 0.0);
    }

    @Test
    void belowTheThresholdOrDisabledLeavesGradientsUntouched() {
        for (double max : new double[] {20.0, 0.0, -1.0}) {
            List<INDArray> g = grads();
            assertEquals(1.0, GradClip.clip(g, 13.0, max));
            assertArrayEquals(new float[] {3f, 4f}, g.get(0).data().asFloat());
            assertArrayEquals(new float[] {12f, 0f, 0f, 0f}, g.get(1).data().asFloat());
        }
    }

    @Test
    void nonFiniteGradientsGiveANonFiniteNorm() {
        List<INDArray> g = grads();
        g.get(1).putScalar(3, Float.NaN);
        assertTrue(Double.isNaN(GradClip.totalNorm(g)));
        g.get(1).putScalar(3, Float.NEGATIVE_INFINITY);
        assertTrue(Double.isInfinite(GradClip.totalNorm(g)));
        assertEquals(1, NonFinite.count(g.get(1)));
        assertEquals(0, NonFinite.count(g.get(0)));
    }
}
