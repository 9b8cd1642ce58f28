package dev.mor4j.llama.model;

import dev.mor4j.core.nn.LeanProduct;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * LLaMA's rotary embedding applied to projection outputs in their flat layout {@code [B·T, n·hd]}, before the
 * heads are split: {@code rope(x) = x·cos + rotate_half(x)·sin} per head.
 *
 * <p>Built for speed in SameDiff M2.1, whose broadcasting multiplications have slow backward passes:
 * <ul>
 *   <li>the cosine and sine rows of the batch's positions are spread once per forward pass to the full
 *       {@code [B·T, n·hd]} shape (a broadcasting multiplication by ones, which is never differentiated: the
 *       tables are constants; {@code tile} is several times slower) and shared by every layer, so each
 *       multiplication with the activations is element by element;</li>
 *   <li>{@code rotate_half} is a product with a constant {@code [hd, hd]} signed permutation, taken as a
 *       {@link LeanProduct} so that the backward pass never computes a gradient for the constant;</li>
 *   <li>{@link #scaled} tables carry a factor (attention's {@code 1/√hd}), so that the queries come out already
 *       scaled and the {@code [B, heads, T, T]} scores need no multiplication.</li>
 * </ul>
 */
final class RotaryEmbedding {

    private final SameDiff sd;
    private final int headDim;
    private final SDVariable cos; // [T, hd] or [B·T, hd]
    private final SDVariable sin; // [T, hd] or [B·T, hd]
    private final SDVariable batch; // [1] = {B}
    private final SDVariable length; // [1] = {T}
    private final SDVariable rotation; // [hd, hd]
    private final Map<String, SDVariable[]> tables = new HashMap<>();

    /**
     * @param cos    the cosine rows of the positions: {@code [T, hd]} when every row of the batch has positions
     *               {@code 0 … T−1}, {@code [B·T, hd]} with a position per token (packed examples)
     * @param sin    shaped as {@code cos}
     * @param batch  {@code [1]} LONG, the batch size B
     * @param length {@code [1]} LONG, the sequence length T
     */
    RotaryEmbedding(SameDiff sd, SDVariable cos, SDVariable sin, SDVariable batch, SDVariable length, int headDim,
            DataType dataType) {
        this.sd = sd;
        this.headDim = headDim;
        this.cos = cos;
        this.sin = sin;
        this.batch = batch;
        this.length = length;
        int half = headDim / 2;
        INDArray r = Nd4j.zeros(dataType, headDim, headDim); // [hd, hd]: x·r = rotate_half(x) = [-x₂, x₁]
        for (int j = 0; j < half; j++) {
            r.putScalar(j + half, j, -1.0);
            r.putScalar(j, j + half, 1.0);
        }
        this.rotation = sd.constant("rope.rotate_half", r);
    }

    /**
     * Rotates {@code x}, multiplying the result by {@code factor} (1 for keys, {@code 1/√hd} for queries).
     *
     * @param x {@code [B·T, heads·hd]}
     * @return {@code [B·T, heads·hd]}
     */
    SDVariable apply(SDVariable x, int heads, double factor) {
        SDVariable[] t = tables(heads, factor); // 2 × [B·T, heads·hd]
        SDVariable rows = x.reshape(-1, headDim); // [B·T·heads, hd]
        SDVariable rotated = LeanProduct.of(sd, rows, rotation, headDim).reshape(-1, (long) heads * headDim); // [B·T, heads·hd]
        return x.mul(t[0]).add(rotated.mul(t[1])); // [B·T, heads·hd]
    }

    /**
     * {cos, sin} times {@code factor}, spread to {@code [B·T, heads·hd]}; built once per (heads, factor). The rows
     * are viewed as {@code [B', T, 1, hd]} ({@code B' = 1} for shared positions, B for per-token ones) and multiplied
     * by ones {@code [B, 1, heads, 1]}, which broadcasts either to {@code [B, T, heads, hd]}.
     */
    private SDVariable[] tables(int heads, double factor) {
        String key = heads + ":" + factor;
        SDVariable[] t = tables.get(key);
        if (t == null) {
            SDVariable shape = sd.concat(0, batch, sd.constant(Nd4j.createFromArray(1L, heads, 1L))); // [4] = {B, 1, heads, 1}
            SDVariable ones = sd.fill(shape, cos.dataType(), 1.0); // [B, 1, heads, 1]
            SDVariable c = factor == 1.0 ? cos : cos.mul(factor); // [T, hd] or [B·T, hd]
            SDVariable s = factor == 1.0 ? sin : sin.mul(factor); // [T, hd] or [B·T, hd]
            SDVariable rows = LongVector.of(sd, -1, length, 1, headDim); // [4] = {-1, T, 1, hd}
            long width = (long) heads * headDim;
            t = new SDVariable[] {
                sd.reshape(c, rows).mul(ones).reshape(-1, width), // [B·T, heads·hd]
                sd.reshape(s, rows).mul(ones).reshape(-1, width), // [B·T, heads·hd]
            };
            tables.put(key, t);
        }
        return t;
    }
}
