package dev.mor4j.core.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.mor4j.core.nn.FrozenLinear;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Per-layer parameter counts, the paper's MoR count, and PEFT's printed line. */
class ParameterCountTest {

    private static FrozenLinear base(int dIn, int dOut) {
        return new FrozenLinear("m", Nd4j.zeros(DataType.FLOAT, dOut, dIn));
    }

    private static AdapterLayer layer(AdapterMethod method, RouterType router, int dIn, int dOut, int r, int n) {
        AdapterConfig c = AdapterFixtures.config(method, r, n, router, 0);
        return AdapterLayers.create(c, "p", base(dIn, dOut));
    }

    @Test
    void morMatchesThePapersCountForSquareLayers() {
        for (int[] dnr : new int[][] {{4096, 8, 8}, {64, 4, 2}, {11, 3, 5}}) {
            long d = dnr[0];
            long n = dnr[1];
            long r = dnr[2];
            AdapterLayer mor = layer(AdapterMethod.MOR, RouterType.SOFTMAX, (int) d, (int) d, (int) r, (int) n);
            assertEquals(2 * d * r + n * (2 * d + r), mor.parameterCount(), "d=" + d + " N=" + n + " r=" + r);
        }
    }

    @Test
    void everyMethodCountsItsWeights() {
        int dIn = 40;
        int dOut = 110;
        int r = 8;
        int n = 8;
        assertEquals((long) r * dIn + (long) dOut * r + (long) n * r + (long) n * dOut + (long) n * dIn,
                layer(AdapterMethod.MOR, RouterType.SOFTMAX, dIn, dOut, r, n).parameterCount());
        assertEquals((long) r * dIn + (long) dOut * r + (long) n * r + (long) n * dOut,
                layer(AdapterMethod.MOR, RouterType.MEAN, dIn, dOut, r, n).parameterCount(), "mean router: no W_r");
        assertEquals((long) r * (dIn + dOut), layer(AdapterMethod.LORA, null, dIn, dOut, r, n).parameterCount());
        assertEquals((long) r * (dIn + dOut) + dOut, layer(AdapterMethod.DORA, null, dIn, dOut, r, n).parameterCount());
        assertEquals((long) n * r * (dIn + dOut) + (long) n * dIn,
                layer(AdapterMethod.MOELORA, RouterType.TOPK, dIn, dOut, r, n).parameterCount());
    }

    @Test
    void meanRouterHasNoWeightKey() {
        for (AdapterMethod m : List.of(AdapterMethod.MOR, AdapterMethod.MOELORA)) {
            AdapterLayer l = layer(m, RouterType.MEAN, 6, 5, 2, 3);
            assertFalse(l.weightShapes().keySet().stream().anyMatch(k -> k.contains("router")), m.name());
            assertFalse(l.initialWeights(new Random(1)).keySet().stream().anyMatch(k -> k.contains("router")), m.name());
        }
    }

    @Test
    void initialWeightsHaveTheDeclaredShapes() {
        for (AdapterMethod m : AdapterMethod.values()) {
            AdapterLayer l = layer(m, RouterType.BALANCED, 6, 5, 2, 3);
            Map<String, INDArray> w = l.initialWeights(new Random(2));
            assertEquals(List.copyOf(l.weightShapes().keySet()), List.copyOf(w.keySet()), m.name());
            l.weightShapes().forEach((k, s) -> assertEquals(List.of(toObjects(s)), List.of(toObjects(w.get(k).shape())), k));
        }
    }

    private static Long[] toObjects(long[] s) {
        Long[] o = new Long[s.length];
        for (int i = 0; i < s.length; i++) {
            o[i] = s[i];
        }
        return o;
    }

    /** Expected lines printed by Python's f-string PEFT uses, for the same counts. */
    @Test
    void formatsLikePeft() {
        assertEquals("trainable params: 1,234 || all params: 5,678 || trainable%: 21.7330", ParameterCount.format(1234, 5678));
        assertEquals("trainable params: 2,359,296 || all params: 1,231,940,608 || trainable%: 0.1915",
                ParameterCount.format(2359296, 1231940608));
        assertEquals("trainable params: 4,718,592 || all params: 6,742,609,920 || trainable%: 0.0700",
                ParameterCount.format(4718592, 6742609920L));
        assertEquals("trainable params: 0 || all params: 10 || trainable%: 0.0000", ParameterCount.format(0, 10));
        assertEquals("trainable params: 8 || all params: 8 || trainable%: 100.0000", ParameterCount.format(8, 8));
        // 100/3200 = 0.03125 exactly: Python rounds the tie to even (0.0312); %.4f would give 0.0313.
        assertEquals("trainable params: 1 || all params: 3,200 || trainable%: 0.0312", ParameterCount.format(1, 3200));
    }

    @Test
    void countsAdaptersOnTopOfTheFrozenModel() {
        AdapterLayer a = layer(AdapterMethod.LORA, null, 10, 20, 2, 1);
        AdapterLayer b = layer(AdapterMethod.LORA, null, 20, 10, 2, 1);
        ParameterCount pc = ParameterCount.of(List.of(a, b), 400);
        assertEquals(120, pc.trainable());
        assertEquals(520, pc.all());
        assertEquals(ParameterCount.format(120, 520), pc.toString());
    }
}
