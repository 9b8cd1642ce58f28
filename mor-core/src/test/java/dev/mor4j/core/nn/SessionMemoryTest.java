package dev.mor4j.core.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SessionMemoryTest {

    /** x [4, 6] → frozen 6→5 → y; loss = sum(y ⊙ y). */
    private static SameDiff graph(boolean install) {
        Nd4j.getRandom().setSeed(7);
        FrozenLinear lin = new FrozenLinear("proj", Nd4j.randn(DataType.FLOAT, 5, 6));
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 6); // [T, 6]
        SDVariable y = sd.identity("y", lin.forward(sd, x)); // [T, 5]
        sd.identity("loss", y.mul(y).sum());
        if (!install) {
            sd.getSessions().clear(); // SameDiff's own session is created on the first call
        }
        return sd;
    }

    private static final Map<String, INDArray> FEEDS = Map.of("x", Nd4j.linspace(DataType.FLOAT, -1, 0.1, 24).reshape(4, 6));

    @Test
    void cachedProjectionOutputsKeepARowMajorFlagAndTheSameValues() {
        SameDiff fixed = graph(true);
        assertTrue(SessionMemory.installed(fixed));
        fixed.output(FEEDS, "loss"); // the projection's output goes back to the cache
        INDArray again = fixed.output(FEEDS, "y").get("y"); // and is handed out again
        assertEquals('c', again.ordering());
        assertArrayEquals(new long[] {5, 1}, again.stride());

        SameDiff plain = graph(false);
        assertFalse(SessionMemory.installed(plain));
        plain.output(FEEDS, "loss");
        INDArray reused = plain.output(FEEDS, "y").get("y");
        // M2.1's cache flags the reused row-major array column-major: the case this class exists for
        assertEquals('f', reused.ordering(), "SameDiff's cache no longer mislabels arrays; SessionMemory may be unneeded");
        assertArrayEquals(new long[] {5, 1}, reused.stride());

        assertEquals(plain.output(FEEDS, "loss").get("loss").getDouble(0),
                fixed.output(FEEDS, "loss").get("loss").getDouble(0), 0.0);
        assertTrue(again.equalsWithEps(reused.dup('c'), 0.0));
    }

    @Test
    void installIsIdempotentPerThread() {
        SameDiff sd = graph(true);
        Object session = sd.getSessions().get(Thread.currentThread().getId());
        SessionMemory.install(sd);
        assertEquals(session, sd.getSessions().get(Thread.currentThread().getId()));
    }
}
