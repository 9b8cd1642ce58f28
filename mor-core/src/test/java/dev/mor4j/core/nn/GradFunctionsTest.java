package dev.mor4j.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.train.GradientFunction;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Computing gradients writes nothing to standard output, although SameDiff M2.1 itself prints there. */
class GradFunctionsTest {

    /** loss = sum((x·w)²), x [2, 3] placeholder, w [3, 2] variable. */
    private static SameDiff graph() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, 2, 3);
        SDVariable w = sd.var("w", Nd4j.linspace(DataType.FLOAT, 0.1, 0.1, 6).reshape(3, 2));
        SDVariable y = x.mmul(w); // [2, 2]
        y.mul(y).sum().rename("loss");
        sd.setLossVariables("loss");
        return sd;
    }

    /** What {@code action} writes to {@code System.out}, which is put back afterwards. */
    private static String stdout(Runnable action) {
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        try {
            action.run();
        } finally {
            System.setOut(original);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void sameDiffItselfPrintsWhileCreatingAGradientFunction() {
        // the reason for GradFunctions; if a later ND4J stops printing, this fails and GradFunctions can go
        String out = stdout(() -> graph().createGradFunction());
        assertTrue(out.contains(GradFunctions.NOISE), "SameDiff's own output: " + out);
    }

    @Test
    void aGradientComputationPrintsNothing() {
        SameDiff sd = graph();
        Map<String, org.nd4j.linalg.api.ndarray.INDArray> feeds =
                Map.of("x", Nd4j.linspace(DataType.FLOAT, 1.0, 0.5, 6).reshape(2, 3));
        OutAndGrad[] r = new OutAndGrad[1];
        String out = stdout(() -> r[0] = GradientFunction.run(sd, feeds, List.of("loss"), List.of("w")));
        assertEquals("", out);
        assertEquals(List.of(3L, 2L), List.of(r[0].getGradients().get("w").shape()[0],
                r[0].getGradients().get("w").shape()[1]));
    }

    @Test
    void standardOutputIsPutBackAfterwards() {
        String out = stdout(() -> {
            PrintStream before = System.out;
            System.out.print("partial ");
            GradFunctions.create(graph());
            assertSame(before, System.out, "System.out is put back");
            System.out.println("line");
        });
        assertEquals("partial line" + System.lineSeparator(), out);
    }
}
