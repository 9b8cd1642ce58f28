package dev.mor4j.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PlannedSessionTest {

    private static Map<String, INDArray> feeds(double start) {
        return Map.of("x", Nd4j.linspace(DataType.FLOAT, start, 0.1, 24).reshape(4, 6)); // [4, 6]
    }

    /** x [4, 6] → frozen 6→5 → y; loss = sum(y ⊙ y); side = sum(x). */
    private static SameDiff graph() {
        Nd4j.getRandom().setSeed(11);
        FrozenLinear lin = new FrozenLinear("proj", Nd4j.randn(DataType.FLOAT, 5, 6));
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 6); // [T, 6]
        SDVariable y = sd.identity("y", lin.forward(sd, x)); // [T, 5]
        sd.identity("loss", y.mul(y).sum());
        sd.identity("side", x.sum());
        return sd;
    }

    private static PlannedSession session(SameDiff sd) {
        return assertInstanceOf(PlannedSession.class, sd.getSessions().get(Thread.currentThread().getId()));
    }

    /** The same values as SameDiff's own session, computed afresh for each call. */
    private static double reference(String output, Map<String, INDArray> feeds) {
        SameDiff sd = graph();
        sd.getSessions().clear();
        return sd.output(feeds, output).get(output).getDouble(0);
    }

    @Test
    void walksTheGraphOncePerSetOfOutputsAndGivesSameDiffsValues() {
        SameDiff sd = graph();
        for (int call = 0; call < 3; call++) {
            Map<String, INDArray> f = feeds(-1 + call);
            assertEquals(reference("loss", f), SessionMemory.output(sd, f, "loss").get("loss").getDouble(0), 0.0);
        }
        assertEquals(1, session(sd).walks());

        Map<String, INDArray> f = feeds(0.5);
        assertEquals(reference("side", f), SessionMemory.output(sd, f, "side").get("side").getDouble(0), 0.0);
        assertEquals(2, session(sd).walks());
        Map<String, INDArray> both = SessionMemory.output(sd, f, "loss", "side");
        assertEquals(reference("loss", f), both.get("loss").getDouble(0), 0.0);
        assertEquals(reference("side", f), both.get("side").getDouble(0), 0.0);
        assertEquals(3, session(sd).walks());
        SessionMemory.output(sd, f, "side");
        SessionMemory.output(sd, f, "loss");
        assertEquals(3, session(sd).walks(), "each set of outputs is walked once");
    }

    @Test
    void aGraphWithARenamedVariableIsWalkedAgain() {
        SameDiff sd = graph();
        Map<String, INDArray> f = feeds(-1);
        double loss = SessionMemory.output(sd, f, "loss").get("loss").getDouble(0);
        sd.getVariable("y").rename("projected"); // same number of ops and variables, other names
        assertEquals(loss, SessionMemory.output(sd, f, "loss").get("loss").getDouble(0), 0.0);
        assertEquals(2, session(sd).walks());
    }

    @Test
    void aGraphThatGrewIsWalkedAgain() {
        SameDiff sd = graph();
        Map<String, INDArray> f = feeds(-1);
        double loss = SessionMemory.output(sd, f, "loss").get("loss").getDouble(0);
        // the loss now also depends on a new op: a stale walk would miss it and give the old value
        sd.getVariable("loss").rename("old_loss");
        sd.identity("loss", sd.getVariable("old_loss").mul(2.0));
        double doubled = SessionMemory.output(sd, f, "loss").get("loss").getDouble(0);
        assertEquals(2 * loss, doubled, 1e-6 * Math.abs(loss));
        assertEquals(2, session(sd).walks());
        assertTrue(loss != 0);
    }
}
