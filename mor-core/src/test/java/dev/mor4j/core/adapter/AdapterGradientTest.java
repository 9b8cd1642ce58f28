package dev.mor4j.core.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.nn.FrozenLinear;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SameDiff's gradients of every adapter kind, router and MoR form against float64 central differences, on a
 * training graph (dropout masks fed as placeholders, load-balancing loss included, a token mask with padding).
 *
 * <p>The scalar loss is {@code Σ (y ⊙ R)² + Σ aux}, R a fixed random tensor.
 */
class AdapterGradientTest {

    private static final DataType DT = DataType.DOUBLE;
    private static final int D_IN = 6;
    private static final int D_OUT = 5;
    private static final int EXPERTS = 4;
    private static final int RANK = 3;
    private static final int TOKENS = 7;
    private static final double DROPOUT = 0.2;
    private static final double TOLERANCE = 1e-6;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        out.add(Arguments.of(AdapterMethod.LORA, RouterType.SOFTMAX, MorForm.EXPANDED, false, DROPOUT));
        out.add(Arguments.of(AdapterMethod.LORA, RouterType.SOFTMAX, MorForm.EXPANDED, true, DROPOUT));
        for (RouterType router : RouterType.values()) {
            out.add(Arguments.of(AdapterMethod.MOELORA, router, MorForm.EXPANDED, false, DROPOUT));
            for (MorForm form : MorForm.values()) {
                out.add(Arguments.of(AdapterMethod.MOR, router, form, false, DROPOUT));
                // Without dropout MoR takes A's product and the router's in one (MixtureOfRanks.forward).
                out.add(Arguments.of(AdapterMethod.MOR, router, form, false, 0.0));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} rslora={3} dropout={4}")
    @MethodSource("cases")
    void gradientsMatchFiniteDifferences(AdapterMethod method, RouterType router, MorForm form, boolean rslora,
            double dropout) {
        Random rng = new Random(17);
        AdapterConfig cfg = config(method, router, rslora, dropout);
        FrozenLinear base = AdapterFixtures.base(rng, D_IN, D_OUT, DT);
        AdapterLayer layer = AdapterLayers.create(cfg, "layer", base, form);
        Map<String, INDArray> weights = AdapterFixtures.randomWeights(layer, rng, DT, 0.5);
        TrainingGraph g = new TrainingGraph(layer, weights, rng, router == RouterType.BALANCED);
        assertEquals(router == RouterType.BALANCED && method != AdapterMethod.LORA, !g.ctx.auxLosses().isEmpty());

        Map<String, INDArray> analytic = g.gradients();
        List<FiniteDifference.Entry> entries = FiniteDifference.compare(weights, analytic, g::lossWith, 4, rng);
        double worst = FiniteDifference.assertClose(entries, TOLERANCE, method + " " + router + " " + form);
        System.out.printf("gradient check %s %s %s rslora=%s dropout=%s: %d entries, max error %.2e%n", method,
                router, form, rslora, dropout, entries.size(), worst);
    }

    /**
     * DoRA's row norm is detached, so its gradient is that of the formula with the norm held at its current
     * value: the numeric side is that formula, evaluated directly. The gradient of the norm-following function
     * differs, which shows the norm really is held constant.
     */
    @Test
    void doraGradientsTreatTheNormAsConstant() {
        for (double dropout : new double[] {0.0, DROPOUT}) {
            Random rng = new Random(23);
            AdapterConfig cfg = config(AdapterMethod.DORA, RouterType.SOFTMAX, false, dropout);
            FrozenLinear base = AdapterFixtures.base(rng, D_IN, D_OUT, DT);
            DoraLayer layer = (DoraLayer) AdapterLayers.create(cfg, "layer", base);
            Map<String, INDArray> weights = AdapterFixtures.randomWeights(layer, rng, DT, 0.5);
            TrainingGraph g = new TrainingGraph(layer, weights, rng, false);
            Map<String, INDArray> analytic = g.gradients();

            INDArray fixedNorm = DoraLayer.rowNorms(adapted(layer, weights)); // [d_out], from unperturbed weights
            FiniteDifference.Loss detached = (key, value) -> {
                Map<String, INDArray> w = new HashMap<>(weights);
                w.put(key, value);
                return g.lossOf(doraByHand(layer, w, g.x, g.mask(), fixedNorm));
            };
            List<FiniteDifference.Entry> entries = FiniteDifference.compare(weights, analytic, detached, 6, rng);
            double worst = FiniteDifference.assertClose(entries, TOLERANCE, "DoRA dropout=" + dropout);
            System.out.printf("gradient check DORA dropout=%s: %d entries, max error %.2e%n", dropout,
                    entries.size(), worst);

            List<FiniteDifference.Entry> following = FiniteDifference.compare(
                    Map.of("layer.lora_B.weight", weights.get("layer.lora_B.weight")), analytic, g::lossWith, 6, rng);
            double differs = following.stream().mapToDouble(FiniteDifference.Entry::error).max().orElse(0);
            assertTrue(differs > 1e-3, "gradient of B should differ from that of the norm-following loss, got " + differs);
        }
    }

    private static AdapterConfig config(AdapterMethod method, RouterType router, boolean rslora, double dropout) {
        AdapterConfig c = AdapterFixtures.config(method, RANK, EXPERTS, router, dropout);
        return c.toBuilder().rslora(rslora).routerAuxLossCoef(0.3).build();
    }

    /** {@code W + s·B·A} as an array, {@code [d_out, d_in]}. */
    private static INDArray adapted(DoraLayer layer, Map<String, INDArray> w) {
        INDArray a = w.get("layer.lora_A.weight");
        INDArray b = w.get("layer.lora_B.weight");
        return layer.base().weight().add(b.mmul(a).muli(layer.scaling()));
    }

    /** PEFT's DoRA output with a given (detached) row norm, evaluated eagerly in float64. */
    private static INDArray doraByHand(DoraLayer layer, Map<String, INDArray> w, INDArray x, INDArray mask,
            INDArray norm) {
        INDArray wt = layer.base().weight(); // [d_out, d_in]
        INDArray a = w.get("layer.lora_A.weight"); // [r, d_in]
        INDArray b = w.get("layer.lora_B.weight"); // [d_out, r]
        INDArray scale = w.get("layer.lora_magnitude_vector").div(norm).reshape(1, D_OUT); // [1, d_out]
        INDArray xd = mask == null ? x : x.mul(mask); // [tokens, d_in]
        INDArray baseOut = x.mmul(wt.transpose()); // [tokens, d_out]
        INDArray baseDropped = xd.mmul(wt.transpose()); // [tokens, d_out]
        INDArray lora = xd.mmul(a.transpose()).mmul(b.transpose()).muli(layer.scaling()); // [tokens, d_out]
        return baseOut.add(baseDropped.mulRowVector(scale.sub(1.0))).add(lora.mulRowVector(scale));
    }

    /** A one-layer training graph with loss {@code Σ (y ⊙ R)² + Σ aux} and its placeholder values. */
    private static final class TrainingGraph {
        final SameDiff sd;
        final AdapterContext ctx;
        final INDArray x; // [tokens, d_in]
        final INDArray r; // [tokens, d_out]
        final Map<String, INDArray> placeholders = new HashMap<>();
        final String loss;
        final Map<String, INDArray> weights;

        TrainingGraph(AdapterLayer layer, Map<String, INDArray> weights, Random rng, boolean tokenMask) {
            this.weights = weights;
            AdapterFixtures.Graph g = AdapterFixtures.graph(layer, weights, DT, true, tokenMask);
            sd = g.sd();
            ctx = g.ctx();
            x = AdapterFixtures.randn(rng, DT, 1.0, TOKENS, D_IN);
            r = AdapterFixtures.randn(rng, DT, 1.0, TOKENS, D_OUT);
            placeholders.put("x", x);
            for (Map.Entry<String, Integer> m : ctx.dropoutMasks().entrySet()) {
                placeholders.put(m.getKey(), AdapterFixtures.dropoutMask(rng, DT, ctx.dropoutRates().get(m.getKey()),
                        TOKENS, m.getValue()));
            }
            if (tokenMask) {
                placeholders.put("token_mask", Nd4j.create(new float[] {1, 1, 1, 0, 1, 1, 0}, new long[] {TOKENS, 1}));
            }
            SDVariable total = sd.math.square(g.y().mul(sd.constant(r))).sum();
            for (SDVariable aux : ctx.auxLosses()) {
                total = total.add(aux);
            }
            loss = total.name();
            sd.setLossVariables(loss);
        }

        INDArray mask() {
            return ctx.dropoutMasks().isEmpty() ? null : placeholders.get(ctx.dropoutMasks().keySet().iterator().next());
        }

        Map<String, INDArray> gradients() {
            return sd.calculateGradients(placeholders, new ArrayList<>(weights.keySet()));
        }

        /**
         * The loss with one weight replaced. The value is assigned into the variable's own array and the
         * original assigned back: replacing the array with {@code setArrayForVariable} lets M2.1 recycle the
         * replaced array as scratch space once a gradient function exists, silently overwriting it.
         */
        double lossWith(String key, INDArray value) {
            INDArray live = sd.getVariable(key).getArr();
            INDArray saved = live.dup();
            live.assign(value);
            double l = sd.output(placeholders, loss).get(loss).getDouble(0);
            live.assign(saved);
            return l;
        }

        double lossOf(INDArray y) {
            return y.mul(r).muli(y.mul(r)).sumNumber().doubleValue();
        }
    }
}
