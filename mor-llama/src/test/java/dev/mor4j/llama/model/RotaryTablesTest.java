package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.config.RopeScaling;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The rotary tables against a float64 reference written here from the published formulas (RoFormer's
 * {@code θ^(-2j/d)}; LLaMA 3.1's frequency scaling as Meta's reference code and transformers'
 * {@code _compute_llama3_parameters} state it), not from the code under test.
 */
class RotaryTablesTest {

    private static final RopeScaling LLAMA31 = new RopeScaling(RopeScaling.Type.LLAMA3, 8.0, 1.0, 4.0, 8192);

    /** LLaMA 3.1's scaled inverse frequencies in float64. */
    private static double[] referenceLlama3(int d, double theta, double factor, double low, double high, int oldLen) {
        double[] out = new double[d / 2];
        for (int j = 0; j < d / 2; j++) {
            double f = 1.0 / Math.pow(theta, 2.0 * j / d);
            double wavelen = 2 * Math.PI / f;
            if (wavelen < oldLen / high) {
                out[j] = f;
            } else if (wavelen > oldLen / low) {
                out[j] = f / factor;
            } else {
                double smooth = (oldLen / wavelen - low) / (high - low);
                out[j] = (1 - smooth) * f / factor + smooth * f;
            }
        }
        return out;
    }

    @Test
    void defaultFrequenciesAreThetaToTheMinusTwoJOverD() {
        float[] inv = RotaryTables.inverseFrequencies(128, 10000.0, RopeScaling.NONE);
        for (int j = 0; j < 64; j++) {
            double ref = Math.pow(10000.0, -2.0 * j / 128);
            assertEquals(ref, inv[j], 1e-7 * ref, "inv_freq[" + j + "]");
        }
    }

    @Test
    void llama3ScalingMatchesTheFormulaInEveryBand() {
        float[] inv = RotaryTables.inverseFrequencies(128, 500000.0, LLAMA31);
        double[] ref = referenceLlama3(128, 500000.0, 8.0, 1.0, 4.0, 8192);
        int kept = 0;
        int divided = 0;
        int smoothed = 0;
        for (int j = 0; j < 64; j++) {
            // float32 arithmetic against float64: a few units in the last place
            assertEquals(ref[j], inv[j], 1e-6 * ref[j], "inv_freq[" + j + "]");
            double unscaled = Math.pow(500000.0, -2.0 * j / 128);
            double wavelen = 2 * Math.PI / unscaled;
            if (wavelen < 2048) {
                kept++;
                assertEquals(unscaled, inv[j], 1e-6 * unscaled);
            } else if (wavelen > 8192) {
                divided++;
                assertEquals(unscaled / 8, inv[j], 1e-6 * unscaled);
            } else {
                smoothed++;
            }
        }
        // LLaMA 3.1 (d = 128, θ = 500000) has frequencies in all three bands
        assertTrue(kept > 0 && divided > 0 && smoothed > 0, kept + " kept, " + divided + " divided, " + smoothed + " smoothed");
    }

    @Test
    void tablesOfAScaledConfigUseTheScaledFrequencies() {
        LlamaConfig c = new LlamaConfig(4096, 14336, 1, 32, 8, 128, 1e-5, 500000.0, false, 128256, 131072, 128000,
                List.of(128001), LLAMA31);
        int positions = 9000;
        INDArray[] t = RotaryTables.build(positions, c);
        assertArrayEquals(new long[] {positions, 128}, t[0].shape());
        double[] ref = referenceLlama3(128, 500000.0, 8.0, 1.0, 4.0, 8192);
        double worst = 0; // the largest difference in units of what float32 frequencies allow
        for (int p : new int[] {0, 1, 17, 511, 4095, 8191, 8999}) {
            for (int j = 0; j < 128; j++) {
                float inv = (float) ref[j % 64];
                double angle = (float) p * inv; // formed in float32 as transformers forms it
                // a frequency one or two float32 units off moves the angle by p units of the frequency
                double allowed = 1e-6 + p * 2.0 * Math.ulp(inv);
                worst = Math.max(worst, Math.abs(t[0].getDouble(p, j) - Math.cos(angle)) / allowed);
                worst = Math.max(worst, Math.abs(t[1].getDouble(p, j) - Math.sin(angle)) / allowed);
            }
        }
        assertTrue(worst <= 1, "largest difference to the float64 reference: " + worst + " of the float32 allowance");
    }
}
