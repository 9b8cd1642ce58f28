package dev.mor4j.core.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.core.nn.GradFunctions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MoRE's layer against {@link MoreReference}, a float64 transcription of the paper's formula, on hand-made weights
 * with which the three tasks choose three different ranks (1, 4 and 2), in one batch that mixes them with an
 * example without a task.
 */
class MixtureOfRankExpertsTest {

    private static final String PREFIX = "layer";
    private static final int D_IN = 6;
    private static final int D_OUT = 5;
    private static final int R = 4;
    private static final int[] RANKS = {1, 2, 4};
    private static final List<String> TASKS = List.of("a", "b", "c");
    private static final double ALPHA = 9;
    private static final double TEMPERATURE = 0.5;
    private static final double TASK_LOSS_WEIGHT = 0.3;
    /** Each position's example: 4 examples of 3, 3, 3 and 2 positions. */
    private static final int[] EXAMPLE = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3};
    /** Position 5 is padding. */
    private static final boolean[] REAL = {true, true, true, true, true, false, true, true, true, true, true};
    /** Each example's task; the last has none. */
    private static final int[] TASK = {0, 1, 2, -1};
    private static final int TOKENS = EXAMPLE.length;

    static AdapterConfig config(double dropout) {
        return AdapterConfig.more(TASKS).rank(R).alpha(ALPHA).dropout(dropout).targetModules("up_proj")
                .rankExperts(1, 2, 4).taskLossWeight(TASK_LOSS_WEIGHT).taskTemperature(TEMPERATURE).build();
    }

    /** Random A and B; a gate and embeddings with which task 0 picks expert 0, task 1 expert 2, task 2 expert 1. */
    static Map<String, INDArray> handMadeWeights(Random rng, DataType dt) {
        Map<String, INDArray> w = new LinkedHashMap<>();
        w.put(PREFIX + ".lora_A.weight", AdapterFixtures.randn(rng, dt, 0.5, R, D_IN));
        w.put(PREFIX + ".lora_B.weight", AdapterFixtures.randn(rng, dt, 0.5, D_OUT, R));
        INDArray gate = AdapterFixtures.randn(rng, dt, 0.05, RANKS.length, D_IN); // [K, d_in]
        INDArray emb = AdapterFixtures.randn(rng, dt, 0.05, TASKS.size(), D_IN); // [tasks, d_in]
        int[] expertOfTask = {0, 2, 1};
        for (int k = 0; k < RANKS.length; k++) {
            gate.putScalar(k, k, gate.getDouble(k, k) + 2);
        }
        for (int t = 0; t < TASKS.size(); t++) {
            emb.putScalar(t, expertOfTask[t], emb.getDouble(t, expertOfTask[t]) + 3);
        }
        w.put(PREFIX + ".more_gate.weight", gate);
        w.put(PREFIX + ".more_gate.bias", AdapterFixtures.randn(rng, dt, 0.1, RANKS.length));
        w.put(PREFIX + ".more_task_embedding", emb);
        return w;
    }

    private static INDArray tokenExample(int[] example, int examples, DataType dt) {
        INDArray m = Nd4j.zeros(dt, example.length, examples); // [tokens, E]
        for (int t = 0; t < example.length; t++) {
            m.putScalar(t, example[t], 1.0);
        }
        return m;
    }

    private static INDArray taskIds(int[] tasks) {
        return Nd4j.createFromArray(tasks);
    }

    private static INDArray tokenMask(boolean[] real) {
        float[] v = new float[real.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = real[i] ? 1f : 0f;
        }
        return Nd4j.create(v, new long[] {real.length, 1});
    }

    private static Map<String, INDArray> feeds(INDArray x, int[] example, int[] tasks, boolean[] real, DataType dt) {
        Map<String, INDArray> f = new HashMap<>();
        f.put("x", x);
        f.put(TaskInputs.TASK_IDS, taskIds(tasks));
        f.put(TaskInputs.TOKEN_EXAMPLE, tokenExample(example, tasks.length, dt));
        f.put("token_mask", tokenMask(real));
        return f;
    }

    private static MoreReference reference(MixtureOfRankExperts layer, Map<String, INDArray> w) {
        return new MoreReference(PREFIX, w, layer.base().weight(), RANKS, ALPHA / R, TEMPERATURE);
    }

    @Test
    void forwardMatchesTheFloat64ReferenceWithEachTaskOnItsOwnRank() {
        for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            Random rng = new Random(5);
            FrozenLinear base = AdapterFixtures.base(rng, D_IN, D_OUT, dt);
            MixtureOfRankExperts layer = new MixtureOfRankExperts(config(0.0), PREFIX, base);
            Map<String, INDArray> w = handMadeWeights(rng, dt);
            INDArray x = AdapterFixtures.randn(rng, dt, 1.0, TOKENS, D_IN);
            MoreReference ref = reference(layer, w);
            assertArrayEquals(new int[] {0, 2, 1}, new int[] {MoreReference.argmax(ref.probabilities(0)),
                    MoreReference.argmax(ref.probabilities(1)), MoreReference.argmax(ref.probabilities(2))},
                    "the hand-made weights should give the tasks different rank experts");

            AdapterFixtures.Graph g = AdapterFixtures.graph(layer, w, dt, false, true);
            INDArray y = g.output(feeds(x, EXAMPLE, TASK, REAL, dt)); // [tokens, d_out]
            double[][] xs = MoreReference.rows(x);
            double[][] expected = ref.outputs(xs, xs, EXAMPLE, TASK, null, null);
            double worst = maxDiff(y, expected);
            double tolerance = dt == DataType.DOUBLE ? 1e-12 : 1e-5;
            assertTrue(worst <= tolerance, dt + ": max |y − reference| = " + worst);
            // the example without a task is the base layer, exactly
            INDArray baseOut = AdapterFixtures.baseOutput(base, x);
            for (int t = 9; t < TOKENS; t++) {
                assertEquals(baseOut.getRow(t), y.getRow(t), "position " + t + " has no task");
            }
            for (int t = 0; t < TASKS.size(); t++) {
                assertEquals(RANKS[new int[] {0, 2, 1}[t]], layer.chosenRank(w, t));
                double[] p = layer.rankProbabilities(w, t);
                double[] pRef = ref.probabilities(t);
                for (int k = 0; k < p.length; k++) {
                    assertEquals(pRef[k], p[k], 1e-6);
                }
            }
        }
    }

    @Test
    void aMixedBatchGivesEachExampleWhatItGetsAlone() {
        DataType dt = DataType.FLOAT;
        Random rng = new Random(6);
        FrozenLinear base = AdapterFixtures.base(rng, D_IN, D_OUT, dt);
        MixtureOfRankExperts layer = new MixtureOfRankExperts(config(0.0), PREFIX, base);
        Map<String, INDArray> w = handMadeWeights(rng, dt);
        INDArray x = AdapterFixtures.randn(rng, dt, 1.0, TOKENS, D_IN);
        AdapterFixtures.Graph g = AdapterFixtures.graph(layer, w, dt, false, true);
        INDArray mixed = g.output(feeds(x, EXAMPLE, TASK, REAL, dt));
        for (int e = 0; e < TASK.length; e++) {
            List<Integer> positions = new ArrayList<>();
            for (int t = 0; t < TOKENS; t++) {
                if (EXAMPLE[t] == e) {
                    positions.add(t);
                }
            }
            INDArray xe = Nd4j.create(dt, positions.size(), D_IN);
            boolean[] real = new boolean[positions.size()];
            for (int i = 0; i < positions.size(); i++) {
                xe.putRow(i, x.getRow(positions.get(i)));
                real[i] = REAL[positions.get(i)];
            }
            INDArray alone = g.output(feeds(xe, new int[positions.size()], new int[] {TASK[e]}, real, dt));
            for (int i = 0; i < positions.size(); i++) {
                assertEquals(alone.getRow(i), mixed.getRow(positions.get(i)), "example " + e + " position " + i);
            }
        }
    }

    /**
     * SameDiff's gradients of {@code Σ (y ⊙ R)² + λ·CE} (dropout masks and padding included) against central
     * differences of the reference with the straight-through weight's subtracted value and the choice held at this
     * point: the gate and the task embeddings receive the gradient of p[k*], and E also that of the alignment loss.
     */
    @Test
    void straightThroughGradientsMatchFiniteDifferences() {
        DataType dt = DataType.DOUBLE;
        Random rng = new Random(7);
        FrozenLinear base = AdapterFixtures.base(rng, D_IN, D_OUT, dt);
        MixtureOfRankExperts layer = new MixtureOfRankExperts(config(0.2), PREFIX, base);
        Map<String, INDArray> w = handMadeWeights(rng, dt);
        INDArray x = AdapterFixtures.randn(rng, dt, 1.0, TOKENS, D_IN);
        INDArray r = AdapterFixtures.randn(rng, dt, 1.0, TOKENS, D_OUT);
        INDArray mask = AdapterFixtures.dropoutMask(rng, dt, 0.2, TOKENS, D_IN);

        AdapterFixtures.Graph g = AdapterFixtures.graph(layer, w, dt, true, true);
        assertEquals(1, g.ctx().auxLosses().size(), "training adds the task-alignment loss");
        SameDiff sd = g.sd();
        SDVariable loss = sd.math.square(g.y().mul(sd.constant(r))).sum().add(g.ctx().auxLosses().get(0));
        sd.setLossVariables(loss.name());
        Map<String, INDArray> f = feeds(x, EXAMPLE, TASK, REAL, dt);
        f.put(g.ctx().dropoutMasks().keySet().iterator().next(), mask);
        List<String> wanted = new ArrayList<>(w.keySet());
        wanted.add("x");
        GradFunctions.create(sd, "x"); // a placeholder's gradient must be asked for up front
        Map<String, INDArray> analytic = sd.calculateGradients(f, wanted);

        MoreReference at = reference(layer, w);
        double[] frozenP = new double[TASK.length];
        int[] frozenK = new int[TASK.length];
        for (int e = 0; e < TASK.length; e++) {
            if (TASK[e] >= 0) {
                double[] p = at.probabilities(TASK[e]);
                frozenK[e] = MoreReference.argmax(p);
                frozenP[e] = p[frozenK[e]];
            }
        }
        double[][] xs = MoreReference.rows(x);
        double[][] dropped = MoreReference.rows(x.mul(mask));
        double[][] rs = MoreReference.rows(r);
        FiniteDifference.Loss referenceLoss = (key, value) -> {
            Map<String, INDArray> moved = new HashMap<>(w);
            moved.put(key, value);
            return objective(reference(layer, moved), xs, dropped, rs, frozenP, frozenK);
        };
        List<FiniteDifference.Entry> entries = FiniteDifference.compare(w, analytic, referenceLoss, 8, rng);
        // the input: through the base, the LoRA product (dropout mask held) and the examples' means
        FiniteDifference.Loss inputLoss = (key, value) -> objective(reference(layer, w), MoreReference.rows(value),
                MoreReference.rows(value.mul(mask)), rs, frozenP, frozenK);
        entries.addAll(FiniteDifference.compare(Map.of("x", x), analytic, inputLoss, 8, rng));
        double worst = FiniteDifference.assertClose(entries, 1e-6, "MoRE");
        for (String k : List.of(".more_gate.weight", ".more_gate.bias", ".more_task_embedding")) {
            double size = analytic.get(PREFIX + k).amaxNumber().doubleValue();
            assertTrue(size > 1e-3, k + " should receive gradient through the straight-through path, got " + size);
        }
        System.out.printf("gradient check MORE: %d entries, max error %.2e%n", entries.size(), worst);
    }

    /** The test's loss in float64: {@code Σ (y ⊙ r)² + λ · CE}, the chosen ranks and p[k*] held at their values. */
    private static double objective(MoreReference ref, double[][] xs, double[][] dropped, double[][] rs,
            double[] frozenP, int[] frozenK) {
        double[][] y = ref.outputs(xs, dropped, EXAMPLE, TASK, frozenP, frozenK);
        double s = 0;
        for (int t = 0; t < y.length; t++) {
            for (int o = 0; o < y[t].length; o++) {
                s += Math.pow(y[t][o] * rs[t][o], 2);
            }
        }
        return s + TASK_LOSS_WEIGHT * ref.alignmentLoss(xs, REAL, EXAMPLE, TASK);
    }

    @Test
    void aTaskLoraAndAMergedWeightGiveTheAdaptersOutputForThatTask() {
        DataType dt = DataType.DOUBLE;
        Random rng = new Random(8);
        FrozenLinear base = AdapterFixtures.base(rng, D_IN, D_OUT, dt);
        MixtureOfRankExperts layer = new MixtureOfRankExperts(config(0.0), PREFIX, base);
        Map<String, INDArray> w = handMadeWeights(rng, dt);
        INDArray x = AdapterFixtures.randn(rng, dt, 1.0, 3, D_IN);
        AdapterFixtures.Graph g = AdapterFixtures.graph(layer, w, dt, false, true);
        for (int task = 0; task < TASKS.size(); task++) {
            INDArray y = g.output(feeds(x, new int[3], new int[] {task}, new boolean[] {true, true, true}, dt));
            INDArray merged = x.mmul(layer.mergedWeight(w, task).transpose()); // [3, d_out]
            assertTrue(TestData.maxAbsDiff(y, merged) < 1e-12, "merged, task " + task);
            INDArray[] ab = layer.taskLora(w, task);
            assertEquals(layer.chosenRank(w, task), ab[0].rows());
            INDArray lora = x.mmul(base.weight().transpose()).add(x.mmul(ab[0].transpose()).mmul(ab[1].transpose()));
            assertTrue(TestData.maxAbsDiff(y, lora) < 1e-12, "task LoRA, task " + task);
        }
        MorException e = assertThrows(MorException.class, () -> layer.mergedWeight(w));
        assertTrue(e.getMessage().contains("--task"), e.getMessage());
        e = assertThrows(MorException.class, () -> layer.chosenRank(w, 3));
        assertTrue(e.getMessage().contains("task id 3 is outside [0, 3)"), e.getMessage());
    }

    @Test
    void freshWeightsLeaveTheBaseUnchangedAndConfigsAreChecked() {
        Random rng = new Random(9);
        FrozenLinear base = AdapterFixtures.base(rng, D_IN, D_OUT, DataType.FLOAT);
        MixtureOfRankExperts layer = new MixtureOfRankExperts(config(0.0), PREFIX, base);
        Map<String, INDArray> w = layer.initialWeights(rng);
        assertEquals(layer.weightShapes().keySet(), w.keySet());
        assertEquals(R * D_IN + D_OUT * R + 3 * D_IN + 3 + 3 * D_IN, layer.parameterCount());
        INDArray x = AdapterFixtures.randn(rng, DataType.FLOAT, 1.0, TOKENS, D_IN);
        INDArray y = AdapterFixtures.graph(layer, w, DataType.FLOAT, false, true)
                .output(feeds(x, EXAMPLE, TASK, REAL, DataType.FLOAT));
        assertEquals(AdapterFixtures.baseOutput(base, x), y);

        AdapterConfig c = config(0.0);
        // as files would give them: the builder refuses both
        AdapterConfig badRanks = AdapterFixtures.fromJson("{\"peft_type\": \"MORE\", \"r\": 4, \"lora_alpha\": 8,"
                + " \"target_modules\": [\"up_proj\"], \"rank_experts\": [2, 2], \"tasks\": [\""
                + String.join("\", \"", TASKS) + "\"]}");
        MorException e = assertThrows(MorException.class, () -> new MixtureOfRankExperts(badRanks, PREFIX, base));
        assertTrue(e.getMessage().contains("rank_experts must increase strictly within [1, r=4], got [2, 2]"),
                e.getMessage());
        AdapterConfig noTasks = AdapterFixtures.fromJson("{\"peft_type\": \"MORE\", \"r\": 4, \"lora_alpha\": 8,"
                + " \"target_modules\": [\"up_proj\"]}");
        e = assertThrows(MorException.class, () -> new MixtureOfRankExperts(noTasks, PREFIX, base));
        assertTrue(e.getMessage().contains("needs 'tasks'"), e.getMessage());
        assertEquals(List.of(1, 2, 3, 4), noTasks.rankExpertsOrDefault());
        assertEquals(AdapterMethod.MORE, c.method());
    }

    private static double maxDiff(INDArray y, double[][] expected) {
        double worst = 0;
        for (int t = 0; t < expected.length; t++) {
            for (int o = 0; o < expected[t].length; o++) {
                worst = Math.max(worst, Math.abs(y.getDouble(t, o) - expected[t][o]));
            }
        }
        return worst;
    }
}
