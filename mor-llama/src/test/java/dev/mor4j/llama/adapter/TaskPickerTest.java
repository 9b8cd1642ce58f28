package dev.mor4j.llama.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterContext;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.adapter.MixtureOfRankExperts;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.llama.MoreFixtures;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code --task auto} on a constructed case: the base model's mean input to every module is computed with a graph
 * of the base model that exposes those inputs, task alpha's embedding rows are set to one prompt's mean inputs and
 * task gamma's to another's, and each prompt must pick its task, with the similarities a float64 computation from
 * the same inputs gives.
 */
class TaskPickerTest {

    private static final int[] FIRST = {1, 450, 4996, 17354, 1701, 29916, 432, 17204};
    private static final int[] SECOND = {1, 7303, 338, 2253, 1135, 29871, 29941, 29945, 29973, 13};

    /** Passes a module through unchanged and outputs its input as {@code <prefix>.probe_input} {@code [tokens, d_in]}. */
    private record InputProbe(String prefix, FrozenLinear base) implements AdapterLayer {
        @Override
        public LinkedHashMap<String, long[]> weightShapes() {
            return new LinkedHashMap<>();
        }

        @Override
        public Map<String, INDArray> initialWeights(Random rng) {
            return Map.of();
        }

        @Override
        public SDVariable forward(AdapterContext ctx, SDVariable x) {
            ctx.sd().identity(prefix + ".probe_input", x); // [tokens, d_in]
            return base.forward(ctx.sd(), x); // [tokens, d_out]
        }

        @Override
        public INDArray mergedWeight(Map<String, INDArray> weights) {
            return base.weight();
        }
    }

    /** The base model's mean input to each module over a prompt's tokens, {@code [d_in]} by module name. */
    private static Map<String, double[]> meanInputs(LlamaWeights weights, LlamaAdapters more, int[] prompt) {
        Map<String, AdapterLayer> probes = new LinkedHashMap<>();
        more.layers().forEach((module, layer) -> probes.put(module, new InputProbe(layer.prefix(), layer.base())));
        LlamaGraph graph = LlamaGraph.build(weights, probes, Map.of(), GraphKind.INFERENCE);
        long[][] ids = {Arrays.stream(prompt).asLongStream().toArray()}; // [1, T]
        Map<String, INDArray> feeds = graph.feeds(new Batch(ids, null, null), LlamaFeeds.Reduction.MEAN);
        Map<String, double[]> means = new LinkedHashMap<>();
        for (Map.Entry<String, AdapterLayer> e : probes.entrySet()) {
            INDArray x = graph.sd().output(feeds, e.getValue().prefix() + ".probe_input")
                    .get(e.getValue().prefix() + ".probe_input"); // [T, d_in]
            means.put(e.getKey(), x.castTo(DataType.DOUBLE).mean(0).toDoubleVector());
        }
        return means;
    }

    private static double cosine(double[] a, double[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    @Test
    void eachPromptPicksTheTaskWhoseEmbeddingsAreItsMeanInputs() {
        LlamaWeights weights = LlamaModel.load(TestData.model("tiny-llama-f32")).weights();
        LlamaAdapters more = MoreFixtures.adapters(weights, 11);
        Map<String, double[]> first = meanInputs(weights, more, FIRST);
        Map<String, double[]> second = meanInputs(weights, more, SECOND);
        for (Map.Entry<String, MixtureOfRankExperts> e : MoreTasks.layers(more).entrySet()) {
            INDArray emb = more.weights().get(e.getValue().prefix() + "." + MixtureOfRankExperts.TASK_EMBEDDING);
            emb.get(NDArrayIndex.point(0), NDArrayIndex.all()).assign(scaled(first.get(e.getKey()), 3.5)); // [d_in]
            emb.get(NDArrayIndex.point(2), NDArrayIndex.all()).assign(scaled(second.get(e.getKey()), 0.25)); // [d_in]
        }
        TaskPicker picker = new TaskPicker(weights, more);
        for (int[][] prompt : new int[][][] {{FIRST, {0}}, {SECOND, {2}}}) {
            Map<String, double[]> inputs = prompt[1][0] == 0 ? first : second;
            double[] expected = new double[MoreFixtures.TASKS.size()]; // [tasks]: mean over modules of cos(x̄_m, E_m[t])
            for (Map.Entry<String, MixtureOfRankExperts> e : MoreTasks.layers(more).entrySet()) {
                INDArray emb = more.weights().get(e.getValue().prefix() + "." + MixtureOfRankExperts.TASK_EMBEDDING);
                for (int t = 0; t < expected.length; t++) {
                    expected[t] += cosine(inputs.get(e.getKey()), emb.getRow(t).castTo(DataType.DOUBLE).toDoubleVector())
                            / more.layers().size();
                }
            }
            TaskPicker.Pick pick = picker.pick(prompt[0]);
            System.out.printf("task auto: picked %s, mean cosines %s (float64 from the probed inputs: %s)%n",
                    pick.name(), Arrays.toString(pick.meanCosines()), Arrays.toString(expected));
            assertEquals(prompt[1][0], pick.task());
            assertEquals(MoreFixtures.TASKS.get(prompt[1][0]), pick.name());
            assertEquals(6, pick.modules());
            assertEquals(1.0, pick.meanCosine(), 1e-5);
            for (int t = 0; t < expected.length; t++) {
                assertEquals(expected[t], pick.meanCosines()[t], 1e-5, "task " + t);
            }
            assertEquals(prompt[1][0], picker.selection(null).taskFor(prompt[0]));
        }
        assertTrue(picker.pick(FIRST).meanCosines()[2] < 1 - 1e-4, "the prompts' mean inputs must differ");
    }

    private static INDArray scaled(double[] v, double factor) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] * factor;
        }
        return org.nd4j.linalg.factory.Nd4j.createFromArray(out).castTo(DataType.FLOAT);
    }
}
