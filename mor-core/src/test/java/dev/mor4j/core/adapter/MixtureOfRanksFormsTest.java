package dev.mor4j.core.adapter;

import static dev.mor4j.core.TestData.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.nn.FrozenLinear;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The three MoR forms compute the same function, and a zero B leaves the base layer's output untouched. */
class MixtureOfRanksFormsTest {

    /**
     * {d_in, d_out, N, r, tokens}: square and not, N = 1, r larger than N, tokens not a multiple of anything.
     * Inputs are N(0, 1) and weights N(0, 0.1²) (Ω around 1), so outputs are O(1), as activations are.
     */
    private static final int[][] SHAPES = {
        {8, 12, 3, 2, 5}, {16, 7, 4, 8, 9}, {5, 20, 1, 3, 4}, {32, 88, 8, 8, 26}, {88, 32, 4, 8, 13},
    };

    @ParameterizedTest
    @EnumSource(RouterType.class)
    void formsAgreeInFloat(RouterType router) {
        double worst = compareForms(router, DataType.FLOAT, 1e-5, 11);
        System.out.printf("MoR forms, %s router, FLOAT: max |difference| %.3g (max |y| %.3g)%n", router, worst, worstScale);
    }

    @ParameterizedTest
    @EnumSource(RouterType.class)
    void formsAgreeInDouble(RouterType router) {
        double worst = compareForms(router, DataType.DOUBLE, 1e-12, 12);
        System.out.printf("MoR forms, %s router, DOUBLE: max |difference| %.3g%n", router, worst);
    }

    private static double worstScale;

    private static double compareForms(RouterType router, DataType dt, double tolerance, long seed) {
        double worst = 0;
        for (int[] s : SHAPES) {
            Random rng = new Random(seed + s[0] * 31L + s[2]);
            AdapterConfig cfg = AdapterFixtures.config(AdapterMethod.MOR, s[3], s[2], router, 0);
            FrozenLinear base = AdapterFixtures.base(rng, s[0], s[1], dt);
            INDArray x = AdapterFixtures.randn(rng, dt, 1.0, s[4], s[0]); // [tokens, d_in]
            MixtureOfRanks loop = new MixtureOfRanks(cfg, "m", base, MorForm.LOOP);
            Map<String, INDArray> w = AdapterFixtures.randomWeights(loop, rng, dt, 0.1);
            INDArray ref = AdapterFixtures.graph(loop, w, dt, false).output(Map.of("x", x));
            assertArrayEquals(new long[] {s[4], s[1]}, ref.shape());
            assertTrue(ref.sub(AdapterFixtures.baseOutput(base, x)).amaxNumber().doubleValue() > 0.1,
                    "the adapter must change the output for the comparison to mean something");
            worstScale = Math.max(worstScale, ref.amaxNumber().doubleValue());
            for (MorForm form : new MorForm[] {MorForm.EXPANDED, MorForm.STACKED}) {
                MixtureOfRanks layer = new MixtureOfRanks(cfg, "m", base, form);
                INDArray y = AdapterFixtures.graph(layer, w, dt, false).output(Map.of("x", x));
                double d = maxAbsDiff(ref, y);
                worst = Math.max(worst, d);
                assertTrue(d <= tolerance, form + " vs LOOP, shape " + Arrays.toString(s) + ": max |diff| " + d);
            }
        }
        return worst;
    }

    @ParameterizedTest
    @EnumSource(RouterType.class)
    void zeroBGivesExactlyTheBaseOutput(RouterType router) {
        Random rng = new Random(3);
        FrozenLinear base = AdapterFixtures.base(rng, 24, 40, DataType.FLOAT);
        INDArray x = AdapterFixtures.randn(rng, DataType.FLOAT, 1.0, 7, 24);
        INDArray expected = AdapterFixtures.baseOutput(base, x);
        AdapterConfig cfg = AdapterFixtures.config(AdapterMethod.MOR, 4, 3, router, 0.1);
        for (MorForm form : MorForm.values()) {
            MixtureOfRanks layer = new MixtureOfRanks(cfg, "m", base, form);
            Map<String, INDArray> w = layer.initialWeights(rng); // B = 0, random Ω, random A and router
            assertEquals(0.0, w.get("m.lora_B.weight").amaxNumber().doubleValue());
            INDArray y = AdapterFixtures.graph(layer, w, DataType.FLOAT, false).output(Map.of("x", x));
            assertEquals(expected, y, form + ": a fresh MoR must reproduce the base output bit for bit");
        }
    }
}
