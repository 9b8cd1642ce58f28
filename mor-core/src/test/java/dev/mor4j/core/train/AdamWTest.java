package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AdamWTest {

    private static final double B1 = 0.9;
    private static final double B2 = 0.999;
    private static final double EPS = 1e-8;

    /** Textbook AdamW in double: decoupled decay, then m̂ / (sqrt(v̂) + ε). */
    private static final class Reference {
        final double[] p;
        final double[] m;
        final double[] v;
        int t;

        Reference(float[] p0) {
            p = new double[p0.length];
            for (int i = 0; i < p0.length; i++) {
                p[i] = p0[i];
            }
            m = new double[p0.length];
            v = new double[p0.length];
        }

        void step(float[] g, double lr, double wd) {
            t++;
            for (int i = 0; i < p.length; i++) {
                p[i] = p[i] * (1 - lr * wd);
                m[i] = B1 * m[i] + (1 - B1) * g[i];
                v[i] = B2 * v[i] + (1 - B2) * (double) g[i] * g[i];
                double mHat = m[i] / (1 - Math.pow(B1, t));
                double vHat = v[i] / (1 - Math.pow(B2, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + EPS);
            }
        }
    }

    private static INDArray arr(float[] v, long... shape) {
        return Nd4j.create(v.clone(), shape, DataType.FLOAT);
    }

    @Test
    void matchesDoubleReferenceOverFiveStepsWithWeightDecay() {
        float[] p0 = {0.5f, -1.25f, 2.0f, 0.0f, -0.03f, 1.0f};
        float[][] grads = {
                {0.1f, -0.2f, 0.3f, 1e-8f, -4.0f, 0.0f},
                {-0.05f, 0.4f, 0.3f, 2e-8f, -3.5f, 0.01f},
                {0.2f, 0.2f, -0.6f, -1e-8f, 1.0f, 0.0f},
                {0.0f, -0.1f, 0.05f, 5e-9f, 2.5f, -0.02f},
                {0.7f, 0.3f, -0.2f, 0.0f, -1.0f, 0.03f},
        };
        double[] lrs = {1e-2, 5e-3, 2e-2, 1e-3, 1e-2};
        double wd = 0.1;
        INDArray p = arr(p0, 2, 3);
        Map<String, INDArray> params = new LinkedHashMap<>();
        params.put("w", p);
        AdamW opt = new AdamW(params, B1, B2, EPS, wd);
        Reference ref = new Reference(p0);
        for (int s = 0; s < grads.length; s++) {
            opt.step(Map.of("w", arr(grads[s], 2, 3)), lrs[s]);
            ref.step(grads[s], lrs[s], wd);
            float[] got = p.data().asFloat();
            float[] m = opt.expAvg().get("w").data().asFloat();
            float[] v = opt.expAvgSq().get("w").data().asFloat();
            for (int i = 0; i < p0.length; i++) {
                String at = "step " + (s + 1) + " element " + i;
                assertEquals(ref.p[i], got[i], 1e-6 * Math.max(1, Math.abs(ref.p[i])), "param " + at);
                assertEquals(ref.m[i], m[i], 1e-6 * Math.abs(ref.m[i]) + 1e-12, "exp_avg " + at);
                assertEquals(ref.v[i], v[i], 1e-5 * Math.abs(ref.v[i]) + 1e-20, "exp_avg_sq " + at);
            }
        }
        assertEquals(5, opt.stepCount());
    }

    @Test
    void firstStepIsBiasCorrected() {
        // at t = 1, m̂ = g and sqrt(v̂) = |g|: every element moves by lr · g / (|g| + ε)
        float[] p0 = {1f, 1f, 1f, 1f};
        float[] g = {3f, -0.2f, 1e-8f, 0f};
        INDArray p = arr(p0, 4);
        AdamW opt = new AdamW(Map.of("w", p), B1, B2, EPS, 0.0);
        double lr = 0.01;
        opt.step(Map.of("w", arr(g, 4)), lr);
        float[] got = p.data().asFloat();
        assertEquals(1 - lr, got[0], 1e-7); // uncorrected, m / sqrt(v) = 0.1 / sqrt(0.001) ≈ 3.16: it would move by 3.16 · lr
        assertEquals(1 + lr, got[1], 1e-7);
        assertEquals(1 - lr / 2, got[2], 1e-7); // ε added to sqrt(v̂), not under the root: 1e-8 / (1e-8 + 1e-8)
        assertEquals(1f, got[3]);
    }

    @Test
    void weightDecayIsDecoupledAndAppliedBeforeTheAdamStep() {
        INDArray p = arr(new float[] {2f, -4f}, 2);
        AdamW opt = new AdamW(Map.of("w", p), B1, B2, EPS, 0.5);
        opt.step(Map.of("w", Nd4j.zeros(DataType.FLOAT, 2)), 0.1);
        // zero gradient: only p · (1 − lr·λ) = p · 0.95; the decay does not enter m or v
        assertArrayEquals(new float[] {1.9f, -3.8f}, p.data().asFloat(), 1e-7f);
        assertEquals(0.0, opt.expAvg().get("w").sumNumber().doubleValue());
        assertEquals(0.0, opt.expAvgSq().get("w").sumNumber().doubleValue());
    }

    @Test
    void refusesGradientsOfTheWrongShapeOrMissing() {
        AdamW opt = new AdamW(Map.of("w", Nd4j.zeros(DataType.FLOAT, 2, 3)), B1, B2, EPS, 0);
        MorException e = assertThrows(MorException.class,
                () -> opt.step(Map.of("w", Nd4j.zeros(DataType.FLOAT, 3, 2)), 0.1));
        assertTrue(e.getMessage().contains("[3, 2]") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(MorException.class, () -> opt.step(Map.of(), 0.1));
        assertEquals(0, opt.stepCount());
    }

    @Test
    void restoreValidatesAndCopiesState() {
        AdamW opt = new AdamW(Map.of("w", Nd4j.zeros(DataType.FLOAT, 2)), B1, B2, EPS, 0);
        INDArray m = arr(new float[] {1f, 2f}, 2);
        INDArray v = arr(new float[] {3f, 4f}, 2);
        opt.restore("optimizer.safetensors", 7, Map.of("w", m), Map.of("w", v));
        assertEquals(7, opt.stepCount());
        assertArrayEquals(new float[] {1f, 2f}, opt.expAvg().get("w").data().asFloat());
        m.putScalar(0, 9f); // copied, not aliased
        assertEquals(1f, opt.expAvg().get("w").getFloat(0));
        MorException e = assertThrows(MorException.class, () -> opt.restore("optimizer.safetensors", 1,
                Map.of("w", m), Map.of()));
        assertTrue(e.getMessage().contains("w.exp_avg_sq"), e.getMessage());
        e = assertThrows(MorException.class, () -> opt.restore("optimizer.safetensors", 1,
                Map.of("w", Nd4j.zeros(DataType.FLOAT, 3)), Map.of("w", v)));
        assertTrue(e.getMessage().contains("w.exp_avg") && e.getMessage().contains("[3]"), e.getMessage());
    }
}
