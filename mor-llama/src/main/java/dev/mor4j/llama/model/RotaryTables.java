package dev.mor4j.llama.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Cosine and sine tables of LLaMA's default rotary embedding, as transformers computes them:
 * {@code inv_freq[j] = θ^(-2j/d)}, {@code angle[p, j] = p · inv_freq[j mod d/2]} (the half-width frequencies
 * repeated twice), so that {@code rope(x) = x·cos + rotate_half(x)·sin}.
 */
public final class RotaryTables {

    private RotaryTables() {
    }

    /** @return {cos, sin}, each {@code [positions, headDim]} */
    public static INDArray[] build(int positions, int headDim, double theta) {
        int half = headDim / 2;
        float[] invFreq = new float[half];
        for (int j = 0; j < half; j++) {
            // float32 as transformers: 1 / theta ** (arange(0, d, 2).float() / d)
            invFreq[j] = (float) (1.0 / Math.pow(theta, (float) (2 * j) / (float) headDim));
        }
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
