package dev.mor4j.core.adapter;

import static dev.mor4j.core.TestData.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.core.train.GradientFunction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The three MoR forms compute the same function and the same gradients, and a zero B leaves the base layer's output
 * untouched. (Each form's gradients are checked against finite differences in {@link AdapterGradientTest}, its
 * outputs against float64 goldens in {@link MixtureOfRanksGoldenTest}.)
 */
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

    /**
     * The library's gradient path ({@link GradientFunction} with its session and array cache, as training and the
     * benchmarks run it) gives every form the gradients LOOP gives, for every weight and the input, with and without
     * dropout, in float64.
     */
    @ParameterizedTest
    @EnumSource(RouterType.class)
    void gradientsAgreeAcrossForms(RouterType router) {
        DataType dt = DataType.DOUBLE;
        double worst = 0;
        for (double dropout : new double[] {0.0, 0.1}) {
            for (int[] s : SHAPES) {
                Random rng = new Random(41 + s[0] * 7L + s[2]);
                AdapterConfig cfg = AdapterFixtures.config(AdapterMethod.MOR, s[3], s[2], router, dropout);
                FrozenLinear base = AdapterFixtures.base(rng, s[0], s[1], dt);
                INDArray x = AdapterFixtures.randn(rng, dt, 1.0, s[4], s[0]); // [tokens, d_in]
                INDArray weightsOfY = AdapterFixtures.randn(rng, dt, 1.0, s[4], s[1]); // [tokens, d_out]
                INDArray mask = AdapterFixtures.dropoutMask(rng, dt, 0.1, s[4], s[0]); // [tokens, d_in]
                Map<String, INDArray> w = AdapterFixtures.randomWeights(new MixtureOfRanks(cfg, "m", base, MorForm.LOOP),
                        rng, dt, 0.1);
                Map<String, INDArray> ref = null;
                for (MorForm form : new MorForm[] {MorForm.LOOP, MorForm.EXPANDED, MorForm.STACKED}) {
                    Map<String, INDArray> grads = gradients(new MixtureOfRanks(cfg, "m", base, form), w, x, weightsOfY,
                            mask, router == RouterType.BALANCED);
                    assertEquals(w.size() + 1, grads.size(), form + ": a gradient for every weight and x");
                    if (ref == null) {
                        ref = grads;
                        continue;
                    }
                    for (Map.Entry<String, INDArray> e : ref.entrySet()) {
                        INDArray other = grads.get(e.getKey());
                        assertArrayEquals(e.getValue().shape(), other.shape(), form + " " + e.getKey());
                        double scale = Math.max(1, e.getValue().amaxNumber().doubleValue());
                        double d = maxAbsDiff(e.getValue(), other) / scale;
                        worst = Math.max(worst, d);
                        assertTrue(d <= 1e-12, form + " vs LOOP, " + e.getKey() + ", shape " + Arrays.toString(s)
                                + ", dropout " + dropout + ": max |diff| / max(1, max |grad|) " + d);
                    }
                }
            }
        }
        System.out.printf("MoR forms, %s router: gradients agree to %.3g (relative to max(1, max |grad|))%n", router,
                worst);
    }

    /** Gradients of {@code Σ (y ⊙ R)² + Σ aux} for every weight and for {@code x}, through {@link GradientFunction}. */
    private static Map<String, INDArray> gradients(MixtureOfRanks layer, Map<String, INDArray> weights, INDArray x,
            INDArray weightsOfY, INDArray mask, boolean tokenMask) {
        Map<String, INDArray> own = new LinkedHashMap<>();
        weights.forEach((k, v) -> own.put(k, v.dup()));
        AdapterFixtures.Graph g = AdapterFixtures.graph(layer, own, x.dataType(), true, tokenMask);
        SDVariable total = g.sd().math.square(g.y().mul(g.sd().constant(weightsOfY))).sum();
        for (SDVariable aux : g.ctx().auxLosses()) {
            total = total.add(aux);
        }
        g.sd().setLossVariables(total.name());
        Map<String, INDArray> feeds = new HashMap<>();
        feeds.put("x", x);
        g.ctx().dropoutMasks().keySet().forEach(name -> feeds.put(name, mask));
        if (tokenMask) {
            feeds.put("token_mask", Nd4j.ones(DataType.FLOAT, x.size(0), 1));
        }
        List<String> names = new ArrayList<>(own.keySet());
        names.add("x");
        Map<String, INDArray> out = new LinkedHashMap<>();
        GradientFunction.run(g.sd(), feeds, List.of(), names).getGradients().forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }
}
