package dev.mor4j.llama.adapter;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.llama.TestData;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * MoR (N=4, r=8, α=32, no dropout) on gate/up/down of the tiny model against transformers + a PyTorch MoR:
 * logits, loss, every weight gradient, and 5 steps of SGD and Adam through SameDiff's own {@code fit}.
 */
class MorGoldenTest {

    private static final String PARAM = "mor.param.";
    private static SafetensorsFile goldens;
    private static LlamaModel model;
    private static Batch batch;

    @BeforeAll
    static void open() {
        goldens = SafetensorsFile.open(TestData.goldens("goldens-base-mor.safetensors"));
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        batch = TestData.batch(goldens);
    }

    @AfterAll
    static void close() {
        goldens.close();
    }

    static AdapterConfig config() {
        return new AdapterConfig("MOR", 8, 32, 0.0, List.of("gate_proj", "up_proj", "down_proj"), false, false, 4,
                RouterType.SOFTMAX, null, null, "ones", "CAUSAL_LM", null);
    }

    /** Fresh copies of the golden adapter weights, keyed as PEFT saves them. */
    static Map<String, INDArray> goldenWeights() {
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (String k : goldens.keys()) {
            if (k.startsWith(PARAM)) {
                w.put(k.substring(PARAM.length()), goldens.getFloat(k));
            }
        }
        return w;
    }

    private static LlamaAdapters adapters() {
        return LlamaAdapters.of(model.weights(), config(), goldenWeights(), "goldens");
    }

    private static double relErr(INDArray actual, INDArray expected) {
        return TestData.maxAbsDiff(actual, expected) / expected.amaxNumber().doubleValue();
    }

    @Test
    void logitsAndLossMatch() {
        LlamaForward.Result r = LlamaForward.run(adapters().graph(model.weights(), false, true), batch, false);
        double logits = TestData.maxAbsDiff(r.logits(), goldens.getFloat("mor.logits"));
        double loss = Math.abs(r.loss() - goldens.getFloat("mor.loss").getDouble(0));
        System.out.printf("MoR: logits max|Δ| %.3g, loss |Δ| %.3g%n", logits, loss);
        assertTrue(logits <= 1e-4, "logits " + logits);
        assertTrue(loss <= 1e-5, "loss " + loss);
    }

    @Test
    void everyWeightGradientMatches() {
        LlamaAdapters a = adapters();
        LlamaGraph g = a.graph(model.weights(), true, true);
        Map<String, INDArray> feeds = LlamaFeeds.of(model.config(), batch, true, LlamaFeeds.Reduction.MEAN);
        Map<String, INDArray> grads = g.sd().calculateGradients(feeds, a.weights().keySet().toArray(new String[0]));
        double worst = 0;
        for (String k : a.weights().keySet()) {
            double e = relErr(grads.get(k), goldens.getFloat("mor.grad." + k));
            worst = Math.max(worst, e);
            assertTrue(e <= 1e-4, k + ": relative gradient error " + e);
        }
        System.out.printf("MoR: worst relative gradient error over %d weights %.3g%n", a.weights().size(), worst);
    }

    @Test
    void fiveStepsOfSgdMatch() {
        trainAndCompare("sgd", new Sgd(0.05));
    }

    @Test
    void fiveStepsOfAdamMatch() {
        trainAndCompare("adam", new Adam(1e-3, 0.9, 0.999, 1e-8));
    }

    private void trainAndCompare(String name, IUpdater updater) {
        LlamaAdapters a = adapters();
        LlamaGraph g = a.graph(model.weights(), true, true);
        SameDiff sd = g.sd();
        Map<String, INDArray> feeds = LlamaFeeds.of(model.config(), batch, true, LlamaFeeds.Reduction.MEAN);
        List<String> names = new ArrayList<>(feeds.keySet());
        INDArray[] features = names.stream().map(feeds::get).toArray(INDArray[]::new);
        sd.setTrainingConfig(TrainingConfig.builder().updater(updater).dataSetFeatureMapping(names)
                .markLabelsUnused().minimize(LlamaGraph.TOTAL_LOSS).build());
        INDArray expectedLosses = goldens.getFloat("mor.train." + name + ".losses");
        for (int step = 0; step < 5; step++) {
            double loss = sd.output(feeds, LlamaGraph.LOSS).get(LlamaGraph.LOSS).getDouble(0);
            double d = Math.abs(loss - expectedLosses.getDouble(step));
            System.out.printf("%s step %d: loss %.6f (golden %.6f, |Δ| %.2g)%n", name, step, loss, expectedLosses.getDouble(step), d);
            assertTrue(d <= 1e-4, name + " loss before step " + step + ": |Δ| " + d);
            sd.fit(new MultiDataSet(features, new INDArray[0]));
        }
        String prefix = "mor.train." + name + ".final.";
        if (!goldens.contains(prefix + a.weights().keySet().iterator().next())) {
            return; // the goldens hold final weights for SGD only
        }
        double worst = 0;
        for (Map.Entry<String, INDArray> e : a.weights().entrySet()) {
            INDArray now = sd.getVariable(e.getKey()).getArr();
            double diff = TestData.maxAbsDiff(now, goldens.getFloat(prefix + e.getKey()));
            worst = Math.max(worst, diff);
            assertTrue(diff <= 1e-4, name + " final " + e.getKey() + ": max|Δ| " + diff);
        }
        System.out.printf("%s: worst final-weight max|Δ| %.3g%n", name, worst);
    }
}
