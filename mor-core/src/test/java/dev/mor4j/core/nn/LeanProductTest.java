package dev.mor4j.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.train.GradientFunction;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LeanProductTest {

    private static final INDArray A = Nd4j.linspace(DataType.DOUBLE, -1, 0.15, 12).reshape(3, 4); // [3, 4]
    private static final INDArray B = Nd4j.linspace(DataType.DOUBLE, 0.5, -0.1, 20).reshape(4, 5); // [4, 5]

    /** loss = sum((a·b) ⊙ c) for a fixed c [3, 5], so that dLoss/d(a·b) = c. */
    private static Map<String, INDArray> gradients(boolean aIsConstant, OpTrace trace) {
        SameDiff sd = SameDiff.create();
        SDVariable a = aIsConstant ? sd.constant("a", A.dup()) : sd.var("a", A.dup()); // [3, 4]
        SDVariable b = aIsConstant ? sd.var("b", B.dup()) : sd.constant("b", B.dup()); // [4, 5]
        SDVariable y = sd.identity("y", LeanProduct.of(sd, a, b, 5)); // [3, 5]
        sd.identity("loss", y.mul(sd.constant(weights())).sum());
        sd.setLossVariables("loss");
        sd.setListeners(trace);
        OutAndGrad r = GradientFunction.run(sd, Map.of(), List.of("y"), List.of(aIsConstant ? "b" : "a"));
        Map<String, INDArray> out = new HashMap<>(r.getOutputs());
        out.putAll(r.getGradients());
        return out;
    }

    private static INDArray weights() {
        return Nd4j.linspace(DataType.DOUBLE, 1, 0.25, 15).reshape(3, 5); // [3, 5]
    }

    @Test
    void constantRightFactorGetsNoGradientComputed() {
        OpTrace trace = new OpTrace();
        Map<String, INDArray> out = gradients(false, trace);
        assertTrue(out.get("y").equalsWithEps(A.mmul(B), 1e-12));
        assertTrue(out.get("a").equalsWithEps(weights().mmul(B.transpose()), 1e-12), "dA = dY·Bᵀ");
        assertFalse(trace.producing(3, 4).isEmpty(), "dA computed: " + trace);
        assertEquals(Set.of(), trace.producing(4, 5), "an op computed something of the constant's shape");
    }

    @Test
    void constantLeftFactorGetsNoGradientComputed() {
        OpTrace trace = new OpTrace();
        Map<String, INDArray> out = gradients(true, trace);
        assertTrue(out.get("b").equalsWithEps(A.transpose().mmul(weights()), 1e-12), "dB = Aᵀ·dY");
        assertFalse(trace.producing(4, 5).isEmpty(), "dB computed: " + trace);
        assertEquals(Set.of(), trace.producing(3, 4), "an op computed something of the constant's shape");
        assertEquals(1, trace.count("xw_plus_b"), trace.toString());
    }
}
