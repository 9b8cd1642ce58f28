package dev.mor4j.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.train.GradientFunction;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A 16-bit layer held in output blocks computes what the same layer held whole computes, widens one block at a time,
 * and gives its weight back as stored; the references are float64 products of the BF16 weight written here.
 */
class FrozenLinearBlocksTest {

    private static final int D_IN = 6;
    private static final int D_OUT = 10;

    private static INDArray weight() { // [d_out, d_in], BF16
        return Nd4j.linspace(DataType.DOUBLE, -1.3, 0.037, D_OUT * D_IN).reshape(D_OUT, D_IN).castTo(DataType.BFLOAT16);
    }

    private static INDArray input() { // [3, d_in]
        return Nd4j.linspace(DataType.DOUBLE, 0.7, -0.11, 3 * D_IN).reshape(3, D_IN).castTo(DataType.FLOAT);
    }

    private static INDArray upstream() { // [3, d_out]
        return Nd4j.linspace(DataType.DOUBLE, -0.4, 0.05, 3 * D_OUT).reshape(3, D_OUT).castTo(DataType.FLOAT);
    }

    @Test
    void blocksAreWholeRowsOfAtMostTheGivenSize() {
        FrozenLinear f = FrozenLinear.resident("m", weight(), DataType.FLOAT, 3 * D_IN); // 3 rows per block at most
        assertEquals(4, f.blocks(), "10 rows in blocks of at most 3");
        assertEquals(3L * D_IN, f.largestBlockParameters());
        assertEquals((long) D_IN * D_OUT, f.parameters());
        assertEquals(2L * D_IN * D_OUT, f.storedBytes());
        assertEquals(D_OUT, f.outFeatures());
        assertEquals(D_IN, f.inFeatures());
        assertEquals(weight(), f.storedWeight(), "the weight comes back as stored");
        assertEquals(1, FrozenLinear.resident("m", weight(), DataType.FLOAT, D_IN * D_OUT).blocks(), "fits in one");
        assertEquals(1, FrozenLinear.resident("m", weight().castTo(DataType.FLOAT), DataType.FLOAT, D_IN).blocks(),
                "a float32 weight is never widened, so never split");
        assertThrows(IllegalArgumentException.class, () -> FrozenLinear.resident("m", weight(), DataType.FLOAT, 5));
    }

    /** y = x Wᵀ, loss = Σ y ⊙ u, e W for e = u: outputs, the product back and dL/dx. */
    private static Map<String, INDArray> run(FrozenLinear f, OpTrace trace) {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.var("x", input()); // [3, d_in]
        SDVariable u = sd.constant("u", upstream()); // [3, d_out]
        SDVariable y = sd.identity("y", f.forward(sd, x.mul(1.0))); // [3, d_out]
        sd.identity("back", f.backProduct(sd, u.mul(1.0))); // [3, d_in]
        sd.setLossVariables(sd.identity("loss", y.mul(u).sum()));
        if (trace != null) {
            sd.setListeners(trace);
        }
        OutAndGrad r = GradientFunction.run(sd, Map.of(), List.of("y", "back"), List.of("x"));
        return Map.of("y", r.getOutputs().get("y"), "back", r.getOutputs().get("back"), "dx", r.getGradients().get("x"));
    }

    @Test
    void blocksComputeWhatTheWholeWeightComputes() {
        INDArray w = weight().castTo(DataType.DOUBLE); // [d_out, d_in]
        INDArray x = input().castTo(DataType.DOUBLE);
        INDArray u = upstream().castTo(DataType.DOUBLE);
        INDArray y = x.mmul(w.transpose()); // [3, d_out]
        INDArray back = u.mmul(w); // [3, d_in]; also dL/dx
        for (long max : new long[] {D_IN * D_OUT, 3 * D_IN, D_IN}) {
            FrozenLinear f = FrozenLinear.resident("m", weight(), DataType.FLOAT, max);
            Map<String, INDArray> out = run(f, null);
            String what = f.blocks() + " block(s)";
            assertTrue(out.get("y").castTo(DataType.DOUBLE).equalsWithEps(y, 1e-5), what + ": " + out.get("y"));
            assertTrue(out.get("back").castTo(DataType.DOUBLE).equalsWithEps(back, 1e-5), what + ": " + out.get("back"));
            assertTrue(out.get("dx").castTo(DataType.DOUBLE).equalsWithEps(back, 1e-5), what + ": " + out.get("dx"));
        }
    }

    /**
     * As the LM head runs in the loss: the product's input has no gradient path, and {@code e} depends on all of
     * {@code y}. In an inference pass and in a training pass (the gradient function, which M2.1 builds without the
     * graph's control dependencies unless {@link GradFunctions} copies them) every cast is read by a product before
     * the next cast runs.
     */
    @Test
    void oneBlockAtATimeIsWidened() {
        for (boolean training : new boolean[] {false, true}) {
            OpTrace trace = new OpTrace();
            FrozenLinear f = FrozenLinear.resident("m", weight(), DataType.FLOAT, 3 * D_IN);
            SameDiff sd = SameDiff.create();
            SDVariable x = sd.var("x", input()); // [3, d_in]
            SDVariable y = f.forward(sd, StopGradient.of(sd, x)); // [3, d_out]
            SDVariable e = y.mul(sd.constant(upstream())); // [3, d_out]
            sd.identity("back", f.backProduct(sd, e)); // [3, d_in]
            sd.setLossVariables(sd.identity("loss", x.mul(x).sum()));
            sd.setListeners(trace);
            if (training) {
                GradientFunction.run(sd, Map.of(), List.of("back"), List.of("x"));
            } else {
                sd.output(Map.of(), "back");
            }
            List<OpTrace.Execution> ops = trace.executions();
            int casts = 0;
            String pending = null; // the output of a cast no product has read yet
            for (OpTrace.Execution op : ops) {
                if (pending != null && op.inputs().contains(pending)) {
                    pending = null;
                }
                if (op.type().equals("cast")) {
                    assertEquals(null, pending, (training ? "training" : "inference")
                            + ": two blocks widened before a product read the first: " + ops);
                    pending = op.outputs().get(0);
                    casts++;
                }
            }
            assertEquals(8, casts, "each of 4 blocks widened once for the forward product and once for e W: " + ops);
        }
    }

    @Test
    void aBlockedWeightHasNoSingleConstant() {
        FrozenLinear f = FrozenLinear.resident("m", weight(), DataType.FLOAT, 3 * D_IN);
        assertThrows(IllegalStateException.class, () -> f.weightConstant(SameDiff.create()));
    }
}
