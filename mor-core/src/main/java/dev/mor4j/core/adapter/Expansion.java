package dev.mor4j.core.adapter;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Constant 0/1 matrices that lay per-expert and per-rank quantities out over the {@code N·r} columns of an
 * expanded mixture, column {@code (i, k) = i·r + k} for expert i and rank k. Multiplying by them is a small
 * matrix product whose backward is two small products; the broadcasting multiplications that would do the
 * same job have backward passes that reduce over the broadcast axes, and those reductions are slow in
 * SameDiff M2.1 (tens of milliseconds for a {@code [d_out, N, r]} tensor).
 */
final class Expansion {

    private Expansion() {
    }

    /**
     * {@code R [N, N·r]} with {@code R[i, (i, k)] = 1}: {@code v R} repeats each of the N columns of
     * {@code v} r times.
     */
    static SDVariable repeat(SameDiff sd, int experts, int r, DataType dataType) {
        String name = "expansion.repeat_" + experts + "x" + r + "." + dataType.name().toLowerCase();
        if (sd.hasVariable(name)) {
            return sd.getVariable(name);
        }
        INDArray m = Nd4j.zeros(dataType, experts, (long) experts * r); // [N, N·r]
        for (int i = 0; i < experts; i++) {
            for (int k = 0; k < r; k++) {
                m.putScalar(i, (long) i * r + k, 1.0);
            }
        }
        return sd.constant(name, m);
    }

    /**
     * {@code P [r, N·r]} with {@code P[k, (i, k)] = 1}: {@code v P} places the r columns of {@code v} side by
     * side N times.
     */
    static SDVariable tile(SameDiff sd, int experts, int r, DataType dataType) {
        String name = "expansion.tile_" + experts + "x" + r + "." + dataType.name().toLowerCase();
        if (sd.hasVariable(name)) {
            return sd.getVariable(name);
        }
        INDArray m = Nd4j.zeros(dataType, r, (long) experts * r); // [r, N·r]
        for (int i = 0; i < experts; i++) {
            for (int k = 0; k < r; k++) {
                m.putScalar(k, (long) i * r + k, 1.0);
            }
        }
        return sd.constant(name, m);
    }
}
