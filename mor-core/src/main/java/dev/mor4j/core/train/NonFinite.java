package dev.mor4j.core.train;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;

/** Finds NaN and ±Inf in arrays, with one native reduction per array. */
public final class NonFinite {

    private NonFinite() {
    }

    /** The number of NaN or infinite elements of {@code a}. */
    public static long count(INDArray a) {
        if (a.isEmpty() || !a.dataType().isFPType()) {
            return 0;
        }
        return Nd4j.getExecutioner().exec(new MatchCondition(a, Conditions.notFinite())).getLong(0);
    }

    /**
     * Describes the first array that holds a non-finite value, e.g. {@code "gradient of 'w' has 3 NaN/Inf
     * values (of 12)"}, or returns null when all are finite.
     *
     * @param what what the arrays are, e.g. {@code "gradient of"}
     */
    public static String describe(String what, Map<String, INDArray> arrays) {
        for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
            long n = count(e.getValue());
            if (n > 0) {
                return what + " '" + e.getKey() + "' has " + n + " NaN/Inf value" + (n == 1 ? "" : "s") + " (of "
                        + e.getValue().length() + ")";
            }
        }
        return null;
    }
}
