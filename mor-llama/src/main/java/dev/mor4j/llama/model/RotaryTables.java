package dev.mor4j.llama.model;

import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.config.RopeScaling;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Cosine and sine tables of LLaMA's rotary embedding, as transformers computes them (in float32):
 * {@code inv_freq[j] = 1 / θ^(2j/d)}, scaled by the config's {@link RopeScaling} (LLaMA 3.1's {@code llama3}
 * scheme), and {@code angle[p, j] = p · inv_freq[j mod d/2]} (the half-width frequencies repeated twice), so that
 * {@code rope(x) = x·cos + rotate_half(x)·sin}.
 *
 * <p>The graph computes the rows it needs from the position ids ({@link #define}) rather than gathering them from
 * a table of every position up to {@code max_position_embeddings}: LLaMA 3.1's 131,072 positions would hold
 * 134 MB of float32 cos/sin for the whole run where a 512-token step needs 0.5 MB.
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

    /**
     * The inverse frequencies of a config repeated twice, {@code inv_freq[j mod d/2]} for {@code j < d}, as the
     * row {@code [1, d]} FLOAT that the graph multiplies the positions with.
     */
    public static INDArray repeatedInverseFrequencies(LlamaConfig c) {
        int d = c.headDim();
        float[] half = inverseFrequencies(d, c.ropeTheta(), c.ropeScaling());
        float[] row = new float[d]; // [d]
        for (int j = 0; j < d; j++) {
            row[j] = half[j % (d / 2)];
        }
        return Nd4j.create(row, new long[] {1, d}, DataType.FLOAT);
    }

    /**
     * Adds the rows of the tables for some positions to a graph: {@code angle = p ⊗ inv_freq} formed in float32 (one
     * rounding, as transformers forms it), its cosine and sine in float32, then cast to the graph's type.
     *
     * @param positions {@code [n]} integer position ids (per example: they restart at 0 in a packed row)
     * @param invFreq {@code [1, d]} FLOAT, from {@link #repeatedInverseFrequencies}
     * @return {cos, sin}, each {@code [n, d]} in {@code type}
     */
    public static SDVariable[] define(SameDiff sd, SDVariable positions, SDVariable invFreq, DataType type) {
        SDVariable p = sd.reshape(positions.castTo(DataType.FLOAT), -1, 1); // [n, 1]
        SDVariable angle = p.mul(invFreq); // [n, d]
        SDVariable cos = sd.math.cos(angle); // [n, d]
        SDVariable sin = sd.math.sin(angle); // [n, d]
        if (type != DataType.FLOAT) {
            cos = cos.castTo(type);
            sin = sin.castTo(type);
        }
        return new SDVariable[] {cos, sin};
    }

    /** @return {cos, sin}, each {@code [positions, headDim]} FLOAT: the rows {@link #define} gives positions 0..n-1 */
    public static INDArray[] build(int positions, LlamaConfig c) {
        SameDiff sd = SameDiff.create();
        SDVariable p = sd.placeHolder("positions", DataType.INT, -1); // [positions]
        SDVariable[] t = define(sd, p, sd.constant("inv_freq", repeatedInverseFrequencies(c)), DataType.FLOAT);
        Map<String, INDArray> out = sd.output(
                Map.of("positions", Nd4j.arange(positions).castTo(DataType.INT)),
                t[0].name(), t[1].name());
        return new INDArray[] {out.get(t[0].name()), out.get(t[1].name())};
    }
}
