package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SameDiffGradientsTest {

    @Test
    void extraOutputsComeFromTheSamePassAsTheGradients() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 2); // [n, 2]
        SDVariable w = sd.var("w", Nd4j.create(new float[] {1f, 2f, 3f, 4f}, new long[] {2, 2}, DataType.FLOAT));
        SDVariable y = sd.identity("y", x.mmul(w)); // [n, 2]
        sd.sum("loss", sd.math.square(y));
        INDArray xv = Nd4j.create(new float[] {1f, 0f, 0f, 1f, 1f, 1f}, new long[] {3, 2}, DataType.FLOAT);
        List<String> seen = new ArrayList<>();
        SameDiffGradients g = new SameDiffGradients(sd, "loss", List.of("w"),
                (step, mb) -> new SameDiffGradients.Batch(Map.of("x", xv), 3))
                .withOutputs(List.of("y"), (step, mb, values) -> {
                    seen.add(step + "/" + mb);
                    assertEquals(xv.mmul(w.getArr()), values.get("y"));
                });
        StepResult r = g.compute(4, 1);
        assertEquals(List.of("4/1"), seen);
        // loss = Σ (x w)²: rows [1 2], [3 4], [4 6] → 1+4+9+16+16+36
        assertEquals(82.0, r.loss(), 1e-5);
        assertTrue(r.gradients().containsKey("w"));
    }

    @Test
    void anUnknownExtraOutputIsAClearError() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 2);
        SDVariable w = sd.var("w", Nd4j.ones(DataType.FLOAT, 2, 2));
        sd.sum("loss", x.mmul(w));
        SameDiffGradients g = new SameDiffGradients(sd, "loss", List.of("w"), (step, mb) -> null);
        MorException e = assertThrows(MorException.class, () -> g.withOutputs(List.of("router"), (s, m, v) -> { }));
        assertEquals("extra output 'router' is not in the graph", e.getMessage());
    }
}
