package dev.mor4j.core.adapter;

import java.util.Locale;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Constant 0/1 matrices that lay per-expert and per-rank quantities out over the {@code N·r} columns (or rows)
 * of an expanded mixture, column {@code (i, k) = i·r + k} for expert i and rank k. Multiplying by them is a
 * small matrix product whose backward is one small product (taken as a {@link dev.mor4j.core.nn.LeanProduct},
 * nothing is computed for the constant); the broadcasting multiplications that would do the same job have
 * backward passes that reduce over the broadcast axes, and those reductions are slow in SameDiff M2.1 (tens
 * of milliseconds for a {@code [d_out, N, r]} tensor).
 */
final class Expansion {

    private Expansion() {
    }

    /**
     * {@code R [N, N·r]} with {@code R[i, (i, k)] = 1}: {@code v R} repeats each of the N columns of
     * {@code v} r times.
     */
    static SDVariable repeat(SameDiff sd, int experts, int r, DataType dataType) {
        return constant(sd, true, experts, r, dataType, false);
    }

    /** {@code Rᵀ [N·r, N]}: {@code Rᵀ v} repeats each of the N rows of {@code v} r times. */
    static SDVariable repeatRows(SameDiff sd, int experts, int r, DataType dataType) {
        return constant(sd, true, experts, r, dataType, true);
    }

    /**
     * {@code P [r, N·r]} with {@code P[k, (i, k)] = 1}: {@code v P} places the r columns of {@code v} side by
     * side N times.
     */
    static SDVariable tile(SameDiff sd, int experts, int r, DataType dataType) {
        return constant(sd, false, experts, r, dataType, false);
    }

    /** {@code Pᵀ [N·r, r]}: {@code Pᵀ v} stacks the r rows of {@code v} N times. */
    static SDVariable tileRows(SameDiff sd, int experts, int r, DataType dataType) {
        return constant(sd, false, experts, r, dataType, true);
    }

    /** {@code R} ({@code byExpert}) or {@code P}, or its transpose; created once per graph. */
    private static SDVariable constant(SameDiff sd, boolean byExpert, int experts, int r, DataType dataType,
            boolean transposed) {
        String name = "expansion." + (byExpert ? "repeat" : "tile") + (transposed ? "_rows_" : "_") + experts + "x"
                + r + "." + dataType.name().toLowerCase(Locale.ROOT);
        if (sd.hasVariable(name)) {
            return sd.getVariable(name);
        }
        INDArray m = Nd4j.zeros(dataType, byExpert ? experts : r, (long) experts * r); // [N or r, N·r]
        for (int i = 0; i < experts; i++) {
            for (int k = 0; k < r; k++) {
                m.putScalar(byExpert ? i : k, (long) i * r + k, 1.0);
            }
        }
        return sd.constant(name, transposed ? m.transpose().dup('c') : m);
    }
}
