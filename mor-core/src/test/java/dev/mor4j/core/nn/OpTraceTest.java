package dev.mor4j.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class OpTraceTest {

    @Test
    void recordsEachExecutionInOrder() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3); // [n, 3]
        SDVariable w = sd.constant("w", Nd4j.ones(DataType.FLOAT, 3, 2)); // [3, 2]
        SDVariable y = sd.mmul("y", x, w); // [n, 2]
        sd.math.exp("e", y); // [n, 2]
        OpTrace trace = new OpTrace();
        sd.setListeners(trace);
        sd.output(Map.of("x", Nd4j.ones(DataType.FLOAT, 4, 3)), "e");

        List<OpTrace.Execution> runs = trace.executions();
        assertEquals(List.of("matmul", "exp"), runs.stream().map(OpTrace.Execution::type).toList());
        OpTrace.Execution product = runs.get(0);
        assertEquals(List.of("y"), product.outputs());
        assertEquals(List.of("[4, 2]"), product.outputShapes());
        assertEquals(List.of("[4, 3]", "[3, 2]"), product.inputShapes());
        assertTrue(product.outputs(4, 2));
        assertEquals(1, trace.count("exp"));
        assertEquals(Set.of(product.name(), runs.get(1).name()), trace.producing(4, 2));
        assertEquals(Set.of("y", "e"), trace.producedVariables());

        trace.clear();
        assertEquals(List.of(), trace.executions());
    }
}
