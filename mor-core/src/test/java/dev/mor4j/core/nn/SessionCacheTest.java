package dev.mor4j.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

class SessionCacheTest {

    private static final LongShapeDescriptor SHAPE = LongShapeDescriptor.fromShape(new long[] {3, 4}, DataType.FLOAT);

    /** The id a reused array gets, and the id of the array created right after it. */
    private static long[] idsAfterReuse(ArrayCacheMemoryMgr cache) {
        INDArray first = cache.allocate(false, SHAPE);
        cache.release(first);
        INDArray reused = cache.allocate(false, SHAPE);
        assertSame(first, reused, "the released array is handed out again");
        INDArray created = Nd4j.createUninitialized(DataType.FLOAT, 2);
        return new long[] {reused.getId(), created.getId()};
    }

    @Test
    void aReusedArrayAndTheNextNewArrayHaveDifferentIds() {
        long[] plain = idsAfterReuse(new ArrayCacheMemoryMgr());
        // M2.1: the session, which tracks released arrays by id, would never release the new array
        assertEquals(plain[0], plain[1], "ND4J no longer gives a reused array the next new array's id");
        long[] fixed = idsAfterReuse(new SessionCache());
        assertNotEquals(fixed[0], fixed[1]);
    }

    /**
     * The gradient function of loss = sum((a·w1) ⊙ (a·w2)), a = 2x, x [2, 3], w1 and w2 [3, 3]: each
     * {@code matmul_bp} also produces a's partial gradient, read only by the sum of the two, which computing
     * the weights' gradients does not run, so the session keeps both partials.
     */
    private static SameDiff gradientFunctionKeepingArrays() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, 2, 3);
        SDVariable a = x.mul(2.0); // [2, 3]
        SDVariable w1 = sd.var("w1", Nd4j.linspace(DataType.FLOAT, 0, 0.1, 9).reshape(3, 3));
        SDVariable w2 = sd.var("w2", Nd4j.linspace(DataType.FLOAT, 1, -0.1, 9).reshape(3, 3));
        a.mmul(w1).mul(a.mmul(w2)).sum().rename("loss");
        sd.setLossVariables("loss");
        sd.createGradFunction();
        return sd.getFunction("grad");
    }

    private static Map<String, INDArray> feeds(double start) {
        return Map.of("x", Nd4j.linspace(DataType.FLOAT, start, 1, 6).reshape(2, 3));
    }

    private static SessionCache cache(SameDiff sd) {
        return (SessionCache) sd.getSessions().get(Thread.currentThread().getId()).getMmgr();
    }

    @Test
    void fromTheSecondCallOnOnlyTheResultsAreNewMemory() {
        SameDiff kept = gradientFunctionKeepingArrays();
        SessionMemory.install(kept);
        for (int call = 0; call < 3; call++) {
            cache(kept).begin();
            kept.output(feeds(call), "w1-grad", "w2-grad"); // SameDiff's output alone
        }
        assertEquals(4, cache(kept).freshAllocations(), "the two results and the two kept partial gradients");

        SameDiff sd = gradientFunctionKeepingArrays();
        Map<String, INDArray> last = null;
        for (int call = 0; call < 3; call++) {
            last = SessionMemory.output(sd, feeds(call), "w1-grad", "w2-grad");
        }
        assertEquals(2, cache(sd).freshAllocations(), "the results, handed to the caller, are the only new arrays");
        assertTrue(last.get("w1-grad").equalsWithEps(kept.output(feeds(2), "w1-grad").get("w1-grad"), 0.0));
    }

    @Test
    void callsOutsideSessionMemoryOutputRecordNothing() {
        SameDiff sd = gradientFunctionKeepingArrays();
        SessionMemory.output(sd, feeds(0), "w1-grad");
        for (int call = 0; call < 3; call++) {
            sd.output(feeds(call), "w1-grad", "w2-grad"); // the installed session, called directly
        }
        // recorded arrays would be held until the next SessionMemory.output: results the caller dropped included
        assertEquals(0, cache(sd).recordedArrays());
    }

    @Test
    void resultsAndArraysSharingTheirBuffersAreNotReused() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, 2, 3);
        SDVariable h = x.mul(2.0); // [2, 3]
        sd.reshape("flat", h, 6); // [6], may share h's buffer
        h.add("y", 1.0);
        h.mul("z", 3.0);
        Map<String, INDArray> first = SessionMemory.output(sd, feeds(0), "flat", "y");
        INDArray flat = first.get("flat").dup();
        INDArray y = first.get("y").dup();
        for (int call = 1; call < 4; call++) {
            Map<String, INDArray> next = SessionMemory.output(sd, feeds(10 * call), "flat", "y");
            assertEquals(20.0 * call, next.get("flat").getDouble(0), 1e-6);
        }
        assertTrue(first.get("flat").equalsWithEps(flat, 0.0));
        assertTrue(first.get("y").equalsWithEps(y, 0.0));
        assertEquals(0.0, flat.getDouble(0), 0.0);
        assertEquals(11.0, y.getDouble(1, 2), 0.0);
    }
}
