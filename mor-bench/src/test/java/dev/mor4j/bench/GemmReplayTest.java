package dev.mor4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The GEMM yardstick replays exactly the products a pass ran. */
class GemmReplayTest {

    @Test
    void recordsTheFrozenLayersProductsOfAForwardAndABackwardPass() {
        ProjectionGraph g = new ProjectionGraph(Variant.BASE, 24, 40, 5, 3);
        g.forwardBackward(); // warm: the gradient function exists
        GemmReplay forward = GemmReplay.record(g.sd(), g::forward, 0);
        assertEquals("1× [5,24]·[24,40]\n", forward.describe());
        assertEquals(2.0 * 5 * 24 * 40 / 1e9, forward.gflop(), 1e-15);

        // backward through the frozen weight: dX = dY·Wᵀ only, no product for the weight's gradient
        GemmReplay both = GemmReplay.record(g.sd(), g::forwardBackward, 0);
        assertEquals("1× [5,24]·[24,40]\n1× [5,40]·[40,24] Bᵀ\n", both.describe());
        assertEquals(2, both.size());
        both.run();

        assertThrows(IllegalStateException.class, () -> GemmReplay.record(g.sd(), g::forward, 1.0));
        assertEquals(0, g.sd().getListeners().size(), "the graph's listeners are restored");
    }
}
