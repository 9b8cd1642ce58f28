package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.OmegaInit;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.train.GradientFunction;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.adapter.LlamaAdapters;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The whole model's adapter gradients against float64 central differences: MoR on every projection of the tiny
 * model (grouped-query attention, 2 layers), a padded batch with ignored labels, so that the loss's gradient
 * passes through the final norm, both layers' MLPs and attention (rotary embedding, causal and padding bias,
 * softmax), the RMSNorms and the residual stream.
 */
class LlamaGradientCheckTest {

    private static final double EPS = 1e-6;

    @Test
    void adapterGradientsMatchCentralDifferences() {
        LlamaWeights weights = LlamaModel.load(TestData.model("tiny-llama-f32")).weights().castTo(DataType.DOUBLE);
        AdapterConfig cfg = AdapterConfig.mor().rank(4).alpha(8).dropout(0.0).targetModules(LlamaWeights.PROJECTIONS
                .stream().map(p -> p.substring(p.indexOf('.') + 1)).toList()).experts(3).router(RouterType.SOFTMAX)
                .omegaInit(OmegaInit.RANDOM).build();
        LlamaAdapters adapters = LlamaAdapters.create(weights, cfg, 11);
        Nd4j.getRandom().setSeed(5);
        adapters.weights().replaceAll((k, v) -> k.endsWith("lora_B.weight")
                ? Nd4j.randn(DataType.DOUBLE, v.shape()).muli(0.1) : v);
        LlamaGraph graph = adapters.graph(weights, GraphKind.TRAINING);
        SameDiff sd = graph.sd();
        long[][] ids = {{1, 17, 400, 9, 2000, 31999, 5}, {1, 8, 77, 3, 0, 0, 0}};
        long[][] mask = {{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0, 0}};
        long[][] labels = {{1, 17, 400, Batch.IGNORE_INDEX, 2000, 31999, 5}, {1, 8, 77, 3, -100, -100, -100}};
        Map<String, INDArray> feeds = LlamaFeeds.of(weights.config(), new Batch(ids, mask, labels), true,
                LlamaFeeds.Reduction.MEAN, DataType.DOUBLE);

        List<String> names = new ArrayList<>(adapters.weights().keySet());
        Map<String, INDArray> analytic = GradientFunction.run(sd, feeds, List.of(), names).getGradients();
        Map<String, INDArray> reference = sd.calculateGradients(feeds, names);
        for (String k : names) {
            assertEquals(reference.get(k), analytic.get(k), k + ": GradientFunction differs from calculateGradients");
        }

        Random rng = new Random(3);
        double worst = 0;
        int checked = 0;
        for (String key : names) {
            if (!key.contains("layers.0.self_attn.q_proj") && !key.contains("layers.1.") && !key.contains("mlp.up_proj")) {
                continue; // a sample of layers and projections keeps the test short
            }
            INDArray w = sd.getVariable(key).getArr();
            INDArray grad = analytic.get(key);
            for (int n = 0; n < 2; n++) {
                long i = rng.nextInt((int) w.length());
                double original = w.getDouble(i);
                w.putScalar(i, original + EPS);
                double plus = loss(sd, feeds);
                w.putScalar(i, original - EPS);
                double minus = loss(sd, feeds);
                w.putScalar(i, original);
                double numeric = (plus - minus) / (2 * EPS);
                double a = grad.reshape(grad.length()).getDouble(i);
                double err = Math.abs(a - numeric) / Math.max(1.0, Math.max(Math.abs(a), Math.abs(numeric)));
                worst = Math.max(worst, err);
                checked++;
                assertTrue(err <= 1e-6, key + "[" + i + "]: analytic " + a + ", numeric " + numeric);
            }
        }
        System.out.printf("whole-model float64 gradient check: %d entries, max error %.3g%n", checked, worst);
        assertTrue(checked >= 40, "checked only " + checked + " entries");
    }

    private static double loss(SameDiff sd, Map<String, INDArray> feeds) {
        return sd.output(feeds, LlamaGraph.TOTAL_LOSS).get(LlamaGraph.TOTAL_LOSS).getDouble(0);
    }
}
