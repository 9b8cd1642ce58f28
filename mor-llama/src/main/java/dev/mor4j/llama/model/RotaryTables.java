package dev.mor4j.llama.model;

import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.config.RopeScaling;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Cosine and sine tables of LLaMA's rotary embedding, as transformers computes them (in float32):
 * {@code inv_freq[j] = 1 / θ^(2j/d)}, scaled by the config's {@link RopeScaling} (LLaMA 3.1's {@code llama3}
 * scheme), and {@code angle[p, j] = p · inv_freq[j mod d/2]} (the half-width frequencies repeated twice), so that
 * {@code rope(x) = x·cos + rotate_half(x)·sin}.
 */
public final class RotaryTables {

    private RotaryTables() {
    }

    /**
     * The inverse frequencies {@code [d/2]} of a config, scaled.
     */
    public static float[] inverseFrequencies(int headDim, double theta, RopeScaling scaling) {
        int half = headDim / 2;
        float[] invFreq = new float[half];
        float base = (float) theta;
        for (int j = 0; j < half; j++) {
            // float32 as transformers: 1.0 / (base ** (arange(0, d, 2).float() / d))
            float power = (float) Math.pow(base, (float) (2 * j) / (float) headDim);
            invFreq[j] = 1.0f / power;
        }
        scaling.apply(invFreq);
        return invFreq;
    }

    /** @return {cos, sin}, each {@code [positions, headDim]} FLOAT */
    public static INDArray[] build(int positions, LlamaConfig c) {
        return build(positions, c.headDim(), inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling()));
    }

    private static INDArray[] build(int positions, int headDim, float[] invFreq) {
        int half = headDim / 2;
        float[] cos = new float[positions * headDim]; // [positions, headDim]
        float[] sin = new float[positions * headDim]; // [positions, headDim]
        for (int p = 0; p < positions; p++) {
            for (int j = 0; j < headDim; j++) {
                float angle = (float) p * invFreq[j % half];
                cos[p * headDim + j] = (float) Math.cos(angle);
                sin[p * headDim + j] = (float) Math.sin(angle);
            }
        }
        return new INDArray[] {
            Nd4j.create(cos, new long[] {positions, headDim}, DataType.FLOAT),
            Nd4j.create(sin, new long[] {positions, headDim}, DataType.FLOAT)
        };
    }
}
