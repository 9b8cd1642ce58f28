package dev.mor4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Every benchmarked variant builds, runs forward and gives a finite, nonzero gradient for each of its weights. */
class ProjectionGraphTest {

    @ParameterizedTest
    @EnumSource(Variant.class)
    void everyVariantRunsForwardAndBackward(Variant variant) {
        ProjectionGraph g = new ProjectionGraph(variant, 16, 24, 8, 3);
        INDArray y = g.forward();
        assertEquals(8, y.rows());
        assertEquals(24, y.columns());
        Map<String, INDArray> grads = g.forwardBackward();
        for (String name : g.gradientNames()) {
            INDArray gr = grads.get(name);
            assertTrue(gr != null, variant + ": no gradient for " + name);
            double size = gr.amaxNumber().doubleValue();
            assertTrue(Double.isFinite(size) && size > 0, variant + ": gradient of " + name + " is " + size);
        }
    }
}
