package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterContext;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.adapter.AdapterLayers;
import dev.mor4j.core.adapter.OmegaInit;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.nn.FrozenLinear;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link GradientFunction} gives SameDiff's own gradients, call after call, and leaves returned arrays alone. */
class GradientFunctionTest {

    private static final int D_IN = 12;
    private static final int D_MID = 20;
    private static final int D_OUT = 9;

    /** Two adapted layers (MoR, then LoRA) with a SiLU between them; the loss is the mean square of the output. */
    private static SameDiff twoLayers(Map<String, INDArray> weights, Random rng) {
        SameDiff sd = SameDiff.create();
        AdapterConfig mor = AdapterConfig.mor().rank(4).alpha(8).dropout(0.0).targetModules("p").experts(3)
                .router(RouterType.SOFTMAX).omegaInit(OmegaInit.RANDOM).build();
        AdapterConfig lora = AdapterConfig.lora().rank(2).alpha(4).dropout(0.0).targetModules("q").build();
        AdapterLayer first = AdapterLayers.create(mor, "p", new FrozenLinear("p", TinyProblem.gaussian(rng, D_MID, D_IN, 0.3)));
        AdapterLayer second = AdapterLayers.create(lora, "q", new FrozenLinear("q", TinyProblem.gaussian(rng, D_OUT, D_MID, 0.3)));
        for (AdapterLayer l : List.of(first, second)) {
            l.weightShapes().forEach((k, shape) -> weights.put(k,
                    TinyProblem.gaussian(rng, (int) shape[0], (int) shape[1], 0.2).addi(k.contains("omega") ? 1 : 0)));
        }
        AdapterContext ctx = new AdapterContext(sd, weights, true);
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, D_IN);
        SDVariable h = sd.nn.swish(first.forward(ctx, x));
        SDVariable y = second.forward(ctx, h);
        sd.mean("loss", sd.math.square(y));
        sd.setLossVariables("loss");
        return sd;
    }

    @Test
    void sameGradientsAsSameDiffOverRepeatedCalls() {
        Map<String, INDArray> weights = new LinkedHashMap<>();
        SameDiff sd = twoLayers(weights, new Random(5));
        List<String> names = new ArrayList<>(weights.keySet());
        Random rng = new Random(9);
        Map<String, INDArray> first = null;
        Map<String, float[]> firstCopy = null;
        for (int call = 0; call < 4; call++) {
            Map<String, INDArray> feeds = Map.of("x", TinyProblem.gaussian(rng, 7 + call % 2, D_IN, 1.0));
            OutAndGrad expected = sd.calculateGradientsAndOutputs(feeds, List.of("loss"), names);
            Map<String, float[]> expectedCopy = TinyProblem.snapshot(expected.getGradients());
            OutAndGrad actual = GradientFunction.run(sd, feeds, List.of("loss"), names);
            assertEquals(expected.getOutputs().get("loss").getFloat(0), actual.getOutputs().get("loss").getFloat(0));
            assertEquals(names.size(), actual.getGradients().size());
            Map<String, float[]> actualCopy = TinyProblem.snapshot(actual.getGradients());
            for (String k : names) {
                assertArrayEquals(expectedCopy.get(k), actualCopy.get(k), "call " + call + ": gradient of " + k);
            }
            if (first == null) {
                first = actual.getGradients();
                firstCopy = actualCopy;
            }
        }
        Map<String, float[]> firstNow = TinyProblem.snapshot(first);
        for (String k : names) {
            assertArrayEquals(firstCopy.get(k), firstNow.get(k), "the first call's gradient of " + k
                    + " was overwritten by later calls");
        }
    }

    @Test
    void placeholderGradientIncludesTheFrozenPath() {
        // y = x Wᵀ with a constant W and no trainable variable at all; loss = sum(y), so dX[t, j] = Σ_d W[d, j]
        Random rng = new Random(3);
        INDArray w = TinyProblem.gaussian(rng, D_OUT, D_IN, 1.0); // [d_out, d_in]
        FrozenLinear base = new FrozenLinear("base", w);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, D_IN);
        base.forward(sd, x).sum().rename("loss");
        sd.setLossVariables("loss");
        INDArray xv = TinyProblem.gaussian(rng, 5, D_IN, 1.0);
        INDArray dx = GradientFunction.run(sd, Map.of("x", xv), List.of(), List.of("x")).getGradients().get("x");
        INDArray expected = Nd4j.ones(DataType.FLOAT, 5, 1).mmul(w.sum(true, 0)); // [5, d_in]
        assertArrayEquals(expected.data().asFloat(), dx.dup('c').data().asFloat(), 1e-5f);
    }
}
