package dev.mor4j.core.nn;

import java.util.Locale;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A matrix product whose backward pass computes only the input gradients that are used.
 *
 * <p>SameDiff M2.1's {@code mmul} has a fused backward op ({@code matmul_bp}) that always computes the
 * gradients of both factors, also when one of them is a constant. {@code xw_plus_b}'s gradient is instead
 * built from two separate products and a reduction, and SameDiff executes only those whose results some
 * requested gradient needs. {@link #of} is {@code a·b} through {@code xw_plus_b} with a constant zero bias:
 * with {@code b} a constant (a frozen weight, a 0/1 expansion matrix) backward computes only {@code dA}, with
 * {@code a} a constant only {@code dB}.
 */
public final class LeanProduct {

    private LeanProduct() {
    }

    /**
     * Adds {@code a·b} to the graph.
     *
     * @param a {@code [m, k]}
     * @param b {@code [k, n]}
     * @param n the number of columns of {@code b} (the length of the zero bias)
     * @return {@code [m, n]}
     */
    public static SDVariable of(SameDiff sd, SDVariable a, SDVariable b, long n) {
        // xw_plus_b outputs come back from M2.1's array cache with a wrong order flag unless the session of
        // SessionMemory runs the graph.
        SessionMemory.install(sd);
        return sd.nn.linear(a, b, zeros(sd, n, b.dataType()));
    }

    /** The constant zero vector {@code [n]} of type {@code dataType}, created once per graph. */
    private static SDVariable zeros(SameDiff sd, long n, DataType dataType) {
        String key = "lean_product.zeros_" + n + "." + dataType.name().toLowerCase(Locale.ROOT);
        return sd.hasVariable(key) ? sd.getVariable(key) : sd.constant(key, Nd4j.zeros(dataType, n));
    }
}
