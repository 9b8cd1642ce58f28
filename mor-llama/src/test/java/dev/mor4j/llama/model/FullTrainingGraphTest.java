package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.train.GradientFunction;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.config.LlamaConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The full fine-tuning graph ({@link LlamaGraph#fullTraining}): an untouched model's loss is the frozen graph's, and
 * the gradients with respect to base weights of every kind (embedding, norms, attention and MLP projections, final
 * norm, LM head, a tied LM head) match float64 central differences of the loss.
 */
class FullTrainingGraphTest {

    private static final double EPS = 1e-5;

    private static final long[][] IDS = {{1, 17, 400, 9, 2000, 31999, 5}, {1, 8, 77, 3, 0, 0, 0}};
    private static final long[][] MASK = {{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0, 0}};
    private static final long[][] LABELS = {{1, 17, 400, Batch.IGNORE_INDEX, 2000, 31999, 5},
        {1, 8, 77, 3, -100, -100, -100}};

    private static Map<String, INDArray> feeds(LlamaConfig c, DataType type) {
        return LlamaFeeds.of(c, new Batch(IDS, MASK, LABELS), true, LlamaFeeds.Reduction.MEAN, type);
    }

    @Test
    void anUntouchedModelHasTheFrozenGraphsLoss() {
        LlamaWeights f32 = LlamaModel.load(TestData.model("tiny-llama-f32")).weights();
        for (LlamaWeights w : List.of(f32, f32.castTo(DataType.DOUBLE))) {
            Map<String, INDArray> feeds = feeds(w.config(), w.dataType());
            double frozen = loss(LlamaGraph.build(w, Map.of(), Map.of(), GraphKind.TRAINING).sd(), feeds);
            double full = loss(LlamaGraph.fullTraining(w, TrainableBase.of(w).weights(), true).sd(), feeds);
            System.out.printf("%s: frozen graph loss %.17g, full fine-tuning graph %.17g%n", w.dataType(), frozen, full);
            // the same values through the same operations but for the product kernels: bit for bit here
            assertEquals(frozen, full, 0.0, w.dataType() + " loss");
        }
    }

    @Test
    void gradientsOfEveryKindOfBaseWeightMatchCentralDifferences() {
        LlamaWeights w = LlamaModel.load(TestData.model("tiny-llama-f32")).weights().castTo(DataType.DOUBLE);
        check(w, List.of("model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                "model.layers.0.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight",
                "model.layers.1.post_attention_layernorm.weight", "model.layers.1.mlp.gate_proj.weight",
                "model.layers.0.mlp.up_proj.weight", "model.layers.1.mlp.down_proj.weight", "model.norm.weight",
                "lm_head.weight"));
    }

    @Test
    void aTiedHeadGetsTheGradientOfBothUses() {
        LlamaConfig untied = LlamaModel.load(TestData.model("tiny-llama-f32")).config();
        LlamaConfig tied = new LlamaConfig(untied.hiddenSize(), untied.intermediateSize(), untied.numHiddenLayers(),
                untied.numAttentionHeads(), untied.numKeyValueHeads(), untied.headDim(), untied.rmsNormEps(),
                untied.ropeTheta(), true, untied.vocabSize(), 64, untied.bosTokenId(), untied.eosTokenIds());
        LlamaWeights w = LlamaWeights.random(tied, 3, 0.2).castTo(DataType.DOUBLE);
        assertTrue(!TrainableBase.of(w).weights().containsKey("lm_head.weight"), "a tied head is the embedding");
        check(w, List.of("model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight", "model.norm.weight"));
    }

    @Test
    void weightsThatDoNotMatchTheConfigAreRefusedTogether() {
        LlamaWeights w = LlamaModel.load(TestData.model("tiny-llama-f32")).weights();
        Map<String, INDArray> base = new HashMap<>(TrainableBase.of(w).weights());
        base.remove("model.norm.weight");
        base.put("model.layers.0.mlp.up_proj.weight", base.get("model.layers.0.mlp.up_proj.weight").transpose());
        MorException e = assertThrows(MorException.class, () -> LlamaGraph.fullTraining(w, base, true));
        String up = "model.layers.0.mlp.up_proj.weight: expected [" + w.config().intermediateSize() + ", "
                + w.config().hiddenSize() + "], got [" + w.config().hiddenSize() + ", " + w.config().intermediateSize()
                + "]";
        assertTrue(e.getMessage().contains("2 problems") && e.getMessage().contains(up)
                && e.getMessage().contains("model.norm.weight: missing"), e.getMessage());
    }

    /**
     * Central differences in float64 of the loss at entries of each weight in {@code keys} whose gradient is among
     * the largest (an embedding row of an unused token has none), against the graph's gradients.
     */
    private static void check(LlamaWeights w, List<String> keys) {
        TrainableBase base = TrainableBase.of(w);
        SameDiff sd = LlamaGraph.fullTraining(w, base.weights(), true).sd();
        Map<String, INDArray> feeds = feeds(w.config(), DataType.DOUBLE);
        List<String> names = new ArrayList<>(base.weights().keySet());
        Map<String, INDArray> analytic = GradientFunction.run(sd, feeds, List.of(), names).getGradients();
        double worst = 0;
        int checked = 0;
        for (String key : keys) {
            INDArray weight = base.weights().get(key);
            INDArray grad = analytic.get(key).reshape(weight.length());
            long[] largest = largestEntries(grad, 3);
            for (long i : largest) {
                double original = weight.getDouble(i);
                weight.putScalar(i, original + EPS);
                double plus = loss(sd, feeds);
                weight.putScalar(i, original - EPS);
                double minus = loss(sd, feeds);
                weight.putScalar(i, original);
                double numeric = (plus - minus) / (2 * EPS);
                double a = grad.getDouble(i);
                assertTrue(Math.abs(a) > 1e-4, key + "[" + i + "]: gradient " + a + " is too small to check");
                double err = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric));
                worst = Math.max(worst, err);
                checked++;
                assertTrue(err <= 1e-5, key + "[" + i + "]: analytic " + a + ", numeric " + numeric);
            }
        }
        System.out.printf("full fine-tuning float64 gradient check: %d entries of %d weights, max relative error %.3g%n",
                checked, keys.size(), worst);
    }

    /** The positions of the {@code n} entries of largest magnitude. */
    private static long[] largestEntries(INDArray v, int n) {
        long[] best = new long[n];
        double[] mag = new double[n];
        java.util.Arrays.fill(mag, -1);
        double[] values = v.dup('c').data().asDouble();
        for (int i = 0; i < values.length; i++) {
            double m = Math.abs(values[i]);
            for (int j = 0; j < n; j++) {
                if (m > mag[j]) {
                    System.arraycopy(mag, j, mag, j + 1, n - j - 1);
                    System.arraycopy(best, j, best, j + 1, n - j - 1);
                    mag[j] = m;
                    best[j] = i;
                    break;
                }
            }
        }
        return best;
    }

    private static double loss(SameDiff sd, Map<String, INDArray> feeds) {
        return sd.output(feeds, LlamaGraph.TOTAL_LOSS).get(LlamaGraph.TOTAL_LOSS).getDouble(0);
    }
}
