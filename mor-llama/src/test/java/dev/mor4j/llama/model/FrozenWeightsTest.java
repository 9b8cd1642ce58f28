package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.OmegaInit;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.nn.OpTrace;
import dev.mor4j.core.train.LrSchedulerType;
import dev.mor4j.core.train.SameDiffGradients;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.core.train.Trainer;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.adapter.LlamaAdapters;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Training touches only the adapters: the graph's only trainable variables are the adapter weights, no gradient
 * of a projection weight or of the embedding is ever computed during a training step (projections enter through
 * {@code xw_plus_b}, whose {@code dW} is a separate product that nothing asks for), and after optimizer steps (the library's {@link Trainer} with AdamW, and SameDiff's own
 * {@code fit}) every frozen array — projections, embeddings, norms, lm_head — is bit for bit what it was.
 */
class FrozenWeightsTest {

    private static AdapterConfig config() {
        return AdapterConfig.mor().rank(4).alpha(16).dropout(0.0)
                .targetModules("q_proj", "v_proj", "gate_proj", "up_proj", "down_proj").experts(3)
                .router(RouterType.SOFTMAX).omegaInit(OmegaInit.RANDOM).build();
    }

    private static Batch batch() {
        long[][] ids = {{1, 17, 400, 9, 2000, 31999, 5, 12}};
        return new Batch(ids, null, ids);
    }

    /** Copies of every frozen array of the model, by name. */
    private static Map<String, float[]> frozen(LlamaWeights w) {
        Map<String, float[]> m = new LinkedHashMap<>();
        m.put("embed", copy(w.embedTokens()));
        m.put("norm", copy(w.finalNorm()));
        for (int l = 0; l < w.config().numHiddenLayers(); l++) {
            m.put("input_norm." + l, copy(w.inputNorm(l)));
            m.put("post_norm." + l, copy(w.postAttentionNorm(l)));
        }
        for (String name : w.linearNames()) {
            m.put(name, copy(w.linear(name).weightTransposed()));
        }
        return m;
    }

    private static float[] copy(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    private static void assertUnchanged(Map<String, float[]> before, LlamaWeights w) {
        Map<String, float[]> after = frozen(w);
        for (String k : before.keySet()) {
            assertArrayEquals(before.get(k), after.get(k), k + " changed during training");
        }
    }

    private static Set<String> trainableVariables(SameDiff sd) {
        Set<String> names = new TreeSet<>();
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE && v.dataType().isFPType()) {
                names.add(v.name());
            }
        }
        return names;
    }

    @Test
    void adamWStepsThroughTheTrainerLeaveFrozenWeightsBitIdentical() {
        LlamaWeights w = LlamaModel.load(TestData.model("tiny-llama-f32")).weights();
        Map<String, float[]> before = frozen(w);
        LlamaAdapters adapters = LlamaAdapters.create(w, config(), 3);
        LlamaGraph graph = adapters.graph(w, GraphKind.TRAINING);
        SameDiff sd = graph.sd();
        assertEquals(new TreeSet<>(adapters.weights().keySet()), trainableVariables(sd),
                "the graph's trainable variables must be exactly the adapter weights");

        Map<String, INDArray> feeds = LlamaFeeds.of(w.config(), batch(), true, LlamaFeeds.Reduction.MEAN);
        SameDiffGradients source = graph.gradientSource(new ArrayList<>(adapters.weights().keySet()),
                (step, micro) -> new SameDiffGradients.Batch(feeds, 8));
        Map<String, float[]> adapterBefore = new LinkedHashMap<>();
        source.trainableArrays().forEach((k, v) -> adapterBefore.put(k, copy(v)));
        TrainConfig tc = TrainConfig.builder().learningRate(1e-2).lrScheduler(LrSchedulerType.CONSTANT).warmupRatio(0)
                .maxSteps(3).saveSteps(0).build();
        OpTrace trace = new OpTrace();
        sd.setListeners(trace);
        new Trainer(tc, source.trainableArrays(), source).train();

        assertUnchanged(before, w);
        Set<String> produced = trace.producedVariables();
        for (String name : w.linearNames()) {
            assertFalse(produced.contains(name + ".weight_t-grad"), name + ": the gradient of the frozen weight was computed");
        }
        assertFalse(produced.contains("model.embed_tokens.weight-grad"), "the embedding's gradient was computed");
        for (String k : adapters.weights().keySet()) {
            assertTrue(produced.contains(k + "-grad"), k + ": no gradient computed (is the listener seeing the backward pass?)");
        }
        String a = adapters.weights().keySet().iterator().next();
        assertFalse(java.util.Arrays.equals(adapterBefore.get(a), copy(source.trainableArrays().get(a))),
                "the adapters should have been trained");
    }

    @Test
    void sameDiffFitLeavesFrozenWeightsBitIdentical() {
        LlamaWeights w = LlamaModel.load(TestData.model("tiny-llama-f32")).weights();
        Map<String, float[]> before = frozen(w);
        LlamaAdapters adapters = LlamaAdapters.create(w, config(), 4);
        SameDiff sd = adapters.graph(w, GraphKind.TRAINING).sd();
        Map<String, INDArray> feeds = LlamaFeeds.of(w.config(), batch(), true, LlamaFeeds.Reduction.MEAN);
        List<String> names = new ArrayList<>(feeds.keySet());
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-2)).dataSetFeatureMapping(names)
                .markLabelsUnused().minimize(LlamaGraph.TOTAL_LOSS).build());
        INDArray[] features = names.stream().map(feeds::get).toArray(INDArray[]::new);
        for (int i = 0; i < 3; i++) {
            sd.fit(new MultiDataSet(features, new INDArray[0]));
        }
        assertUnchanged(before, w);
    }
}
