package dev.mor4j.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.train.GradientFunction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

class LeanProductTest {

    private static final INDArray A = Nd4j.linspace(DataType.DOUBLE, -1, 0.15, 12).reshape(3, 4); // [3, 4]
    private static final INDArray B = Nd4j.linspace(DataType.DOUBLE, 0.5, -0.1, 20).reshape(4, 5); // [4, 5]

    /** Records the shape of every array an executed op outputs. */
    private static final class Shapes extends BaseListener {
        final List<String> seen = new ArrayList<>();

        @Override
        public boolean isActive(Operation operation) {
            return true;
        }

        @Override
        public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx,
                INDArray[] outputs) {
            for (INDArray o : outputs) {
                seen.add(op.getOp().opName() + Arrays.toString(o.shape()));
            }
        }

        boolean any(long... shape) {
            return seen.stream().anyMatch(s -> s.endsWith(Arrays.toString(shape)));
        }
    }

    /** loss = sum((a·b) ⊙ c) for a fixed c [3, 5], so that dLoss/d(a·b) = c. */
    private static Map<String, INDArray> gradients(boolean aIsConstant, Shapes shapes) {
        SameDiff sd = SameDiff.create();
        SDVariable a = aIsConstant ? sd.constant("a", A.dup()) : sd.var("a", A.dup()); // [3, 4]
        SDVariable b = aIsConstant ? sd.var("b", B.dup()) : sd.constant("b", B.dup()); // [4, 5]
        SDVariable y = sd.identity("y", LeanProduct.of(sd, a, b, 5)); // [3, 5]
        sd.identity("loss", y.mul(sd.constant(weights())).sum());
        sd.setLossVariables("loss");
        sd.setListeners(shapes);
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
        Shapes shapes = new Shapes();
        Map<String, INDArray> out = gradients(false, shapes);
        assertTrue(out.get("y").equalsWithEps(A.mmul(B), 1e-12));
        assertTrue(out.get("a").equalsWithEps(weights().mmul(B.transpose()), 1e-12), "dA = dY·Bᵀ");
        assertTrue(shapes.any(3, 4), "dA computed: " + shapes.seen);
        assertFalse(shapes.any(4, 5), "an op computed something of the constant's shape: " + shapes.seen);
    }

    @Test
    void constantLeftFactorGetsNoGradientComputed() {
        Shapes shapes = new Shapes();
        Map<String, INDArray> out = gradients(true, shapes);
        assertTrue(out.get("b").equalsWithEps(A.transpose().mmul(weights()), 1e-12), "dB = Aᵀ·dY");
        assertTrue(shapes.any(4, 5), "dB computed: " + shapes.seen);
        assertFalse(shapes.any(3, 4), "an op computed something of the constant's shape: " + shapes.seen);
        assertEquals(1, shapes.seen.stream().filter(s -> s.startsWith("xw_plus_b")).count(), shapes.seen.toString());
    }
}
