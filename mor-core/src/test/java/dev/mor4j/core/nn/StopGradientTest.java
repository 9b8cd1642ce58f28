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

class StopGradientTest {

    /** loss = sum(x ⊙ e) with e = exp(x), or with e detached: then dLoss/dx = exp(x) instead of exp(x)·(1 + x). */
    private static OutAndGrad run(DataType type, boolean detach, OpTrace trace) {
        SameDiff sd = SameDiff.create();
        INDArray value = Nd4j.linspace(type, -1.5, 0.25, 12).reshape(3, 4); // [3, 4]
        SDVariable x = sd.var("x", value); // [3, 4]
        SDVariable e = sd.math.exp(x); // [3, 4]
        SDVariable used = sd.identity("used", detach ? StopGradient.of(sd, e) : e); // [3, 4]
        sd.identity("loss", x.mul(used).sum());
        sd.setLossVariables("loss");
        sd.setListeners(trace);
        return GradientFunction.run(sd, Map.of(), List.of("used"), List.of("x"));
    }

    @Test
    void copiesBitsAndStopsTheGradient() {
        for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE)) {
            INDArray x = Nd4j.linspace(type, -1.5, 0.25, 12).reshape(3, 4);
            INDArray exp = org.nd4j.linalg.ops.transforms.Transforms.exp(x, true);
            OutAndGrad r = run(type, true, new OpTrace());
            INDArray used = r.getOutputs().get("used");
            assertEquals(type, used.dataType());
            assertEquals(exp, used, type + ": the copy's values");
            assertEquals(exp, r.getGradients().get("x"), type + ": the gradient is e alone, nothing flows through e");
        }
    }

    @Test
    void opsBeforeItAreNotDifferentiated() {
        // exp's backward computes exp again: with the gradient stopped, exp runs only in the forward pass
        OpTrace detached = new OpTrace();
        run(DataType.FLOAT, true, detached);
        assertEquals(1, detached.count("exp"), detached.toString());
        OpTrace attached = new OpTrace();
        OutAndGrad r = run(DataType.FLOAT, false, attached);
        assertEquals(2, attached.count("exp"), "the control differentiates exp: " + attached);
        INDArray x = Nd4j.linspace(DataType.FLOAT, -1.5, 0.25, 12).reshape(3, 4);
        INDArray exp = org.nd4j.linalg.ops.transforms.Transforms.exp(x, true);
        assertTrue(r.getGradients().get("x").equalsWithEps(exp.mul(x.add(1)), 1e-6));
    }

    @Test
    void rejectsIntegers() {
        SameDiff sd = SameDiff.create();
        SDVariable ids = sd.constant("ids", Nd4j.createFromArray(1, 2, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StopGradient.of(sd, ids));
        assertTrue(e.getMessage().contains("ids: expected a FLOAT or DOUBLE variable, got INT"), e.getMessage());
    }
}
