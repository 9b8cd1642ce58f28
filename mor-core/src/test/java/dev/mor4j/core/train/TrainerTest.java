package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TrainerTest {

    private static TrainConfig.Builder base() {
        return TrainConfig.builder().learningRate(2e-2).warmupRatio(0).lrScheduler(LrSchedulerType.CONSTANT)
                .maxSteps(10).seed(3).saveSteps(0);
    }

    /** Records metrics and a snapshot of weights and optimizer state after every step. */
    private static final class Recorder implements TrainListener {
        final List<StepMetrics> metrics = new ArrayList<>();
        final List<Map<String, float[]>> weights = new ArrayList<>();
        final List<Map<String, float[]>> moments = new ArrayList<>();
        Trainer trainer;

        @Override
        public void onStep(StepMetrics m) {
            metrics.add(m);
            weights.add(TinyProblem.snapshot(trainer.params()));
            Map<String, INDArray> both = new HashMap<>();
            trainer.optimizer().expAvg().forEach((k, v) -> both.put(k + ".exp_avg", v));
            trainer.optimizer().expAvgSq().forEach((k, v) -> both.put(k + ".exp_avg_sq", v));
            moments.add(TinyProblem.snapshot(both));
        }
    }

    private static Recorder record(Trainer t) {
        Recorder r = new Recorder();
        r.trainer = t;
        t.addListener(r);
        return r;
    }

    static void assertBitEqual(Map<String, float[]> expected, Map<String, float[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        for (String k : expected.keySet()) {
            assertTrue(java.util.Arrays.equals(expected.get(k), actual.get(k)), what + ": '" + k + "' differs");
        }
    }

    @Test
    void lossDecreases() {
        TinyProblem p = new TinyProblem(1, 0.05, 1, 3);
        Trainer t = new Trainer(base().maxSteps(120).build(), p.params, p.source);
        Recorder r = record(t);
        double before = p.fullLoss();
        t.train();
        double after = p.fullLoss();
        assertEquals(120, r.metrics.size());
        assertTrue(after < 0.1 * before, "full-data loss " + before + " -> " + after);
        double first = r.metrics.subList(0, 10).stream().mapToDouble(StepMetrics::loss).average().orElseThrow();
        double last = r.metrics.subList(110, 120).stream().mapToDouble(StepMetrics::loss).average().orElseThrow();
        assertTrue(last < 0.2 * first, "logged loss " + first + " -> " + last);
        StepMetrics m = r.metrics.get(0);
        assertEquals(1, m.step());
        assertEquals(TinyProblem.ROWS_PER_STEP, m.tokens());
        assertEquals(2e-2, m.lr());
        assertFalse(m.skipped());
        assertTrue(m.gradNorm() > 0 && m.tokensPerSecond() > 0 && m.elapsedSeconds() > 0, m.toString());
        assertEquals(120, t.optimizer().stepCount());
    }

    @Test
    void reportedLossIsTheGraphLossOfTheWeightsBeforeTheUpdate() {
        TinyProblem p = new TinyProblem(1, 0.0, 1, 3);
        double expected = p.source.compute(0, 0).loss();
        Trainer t = new Trainer(base().maxSteps(1).build(), p.params, p.source);
        Recorder r = record(t);
        t.train();
        assertEquals(expected, r.metrics.get(0).loss(), 0.0);
    }

    @Test
    void accumulatorsSharingAPoolReuseTheArraysAndSumAfresh() {
        TinyProblem half = new TinyProblem(1, 0.0, 2, 3);
        Deque<Map<String, INDArray>> pool = new ArrayDeque<>();
        GradientAccumulator first = new GradientAccumulator(half.params, 2, pool);
        first.add(half.source.compute(0, 0));
        first.add(half.source.compute(0, 1));
        Map<String, INDArray> firstSums = Map.copyOf(first.meanGradients());
        first.release();
        assertEquals(1, pool.size(), "the released sums wait in the pool");
        GradientAccumulator second = new GradientAccumulator(half.params, 2, pool);
        second.add(half.source.compute(1, 0));
        second.add(half.source.compute(1, 1));
        GradientAccumulator fresh = new GradientAccumulator(half.params, 2);
        fresh.add(half.source.compute(1, 0));
        fresh.add(half.source.compute(1, 1));
        for (String k : half.params.keySet()) {
            assertSame(firstSums.get(k), second.meanGradients().get(k), k);
            assertEquals(fresh.meanGradients().get(k), second.meanGradients().get(k), k);
        }
    }

    @Test
    void twoHalfMicroBatchesEqualOneFullBatch() {
        TinyProblem full = new TinyProblem(1, 0.0, 1, 3);
        TinyProblem half = new TinyProblem(1, 0.0, 2, 3);
        GradientAccumulator one = new GradientAccumulator(full.params, 1);
        one.add(full.source.compute(0, 0));
        GradientAccumulator two = new GradientAccumulator(half.params, 2);
        two.add(half.source.compute(0, 0));
        two.add(half.source.compute(0, 1));
        assertEquals(one.meanLoss(), two.meanLoss(), 1e-6 * one.meanLoss());
        assertEquals(one.tokens(), two.tokens());
        for (String k : full.params.keySet()) {
            INDArray a = one.meanGradients().get(k);
            INDArray b = two.meanGradients().get(k);
            double scale = a.norm2Number().doubleValue();
            assertTrue(scale > 0);
            assertEquals(0.0, a.sub(b).norm2Number().doubleValue(), 1e-5 * scale, k);
        }

        Trainer t1 = new Trainer(base().maxSteps(3).build(), full.params, full.source);
        Trainer t2 = new Trainer(base().maxSteps(3).gradientAccumulationSteps(2).build(), half.params, half.source);
        Recorder r1 = record(t1);
        Recorder r2 = record(t2);
        t1.train();
        t2.train();
        for (int s = 0; s < 3; s++) {
            assertEquals(r1.metrics.get(s).gradNorm(), r2.metrics.get(s).gradNorm(), 1e-5 * r1.metrics.get(s).gradNorm());
            assertEquals(r1.metrics.get(s).loss(), r2.metrics.get(s).loss(), 1e-5 * r1.metrics.get(s).loss());
            assertEquals(r1.metrics.get(s).tokens(), r2.metrics.get(s).tokens());
        }
        for (String k : full.params.keySet()) {
            INDArray a = full.params.get(k);
            assertEquals(0.0, a.sub(half.params.get(k)).norm2Number().doubleValue(), 1e-5 * a.norm2Number().doubleValue(), k);
        }
    }

    @Test
    void clipsTheGlobalNormBeforeTheOptimizerSeesTheGradients() {
        // a gradient of global norm 50 ([30, 40]); with β₁ = 0.9 the first exp_avg is 0.1 · (clipped gradient)
        INDArray g = Nd4j.create(new float[] {30f, 0f, 40f}, new long[] {3}, DataType.FLOAT);
        for (double maxNorm : new double[] {1.0, 0.0, 100.0}) {
            Map<String, INDArray> params = Map.of("w", Nd4j.zeros(DataType.FLOAT, 3));
            GradientSource constant = (step, mb) -> new StepResult(1.0, 4, Map.of("w", g.dup()));
            Trainer t = new Trainer(base().maxSteps(1).maxGradNorm(maxNorm).build(), params, constant);
            Recorder r = record(t);
            t.train();
            assertEquals(50.0, r.metrics.get(0).gradNorm(), 1e-9, "grad_norm is reported before clipping");
            double coef = maxNorm > 0 && maxNorm < 50 ? maxNorm / (50.0 + 1e-6) : 1.0;
            float[] m = t.optimizer().expAvg().get("w").data().asFloat();
            assertEquals(0.1 * 30 * coef, m[0], 1e-6 * 3 * coef, "max_norm " + maxNorm);
            assertEquals(0.0, m[1]);
            assertEquals(0.1 * 40 * coef, m[2], 1e-6 * 4 * coef, "max_norm " + maxNorm);
        }
    }

    @Test
    void nonFiniteLossSkipsTheStepAndLeavesWeightsAndStateUntouched() {
        TinyProblem p = new TinyProblem(1, 0.1, 2, 3);
        p.nanSteps.add(2L);
        Trainer t = new Trainer(base().maxSteps(5).gradientAccumulationSteps(2).build(), p.params, p.source);
        Recorder r = record(t);
        t.train();
        StepMetrics skipped = r.metrics.get(2);
        assertTrue(skipped.skipped());
        assertTrue(skipped.skipReason().contains("loss of micro-batch 0 is NaN"), skipped.skipReason());
        assertEquals(3, skipped.step());
        assertTrue(Double.isNaN(skipped.loss()));
        assertBitEqual(r.weights.get(1), r.weights.get(2), "weights across the skipped step");
        assertBitEqual(r.moments.get(1), r.moments.get(2), "optimizer state across the skipped step");
        assertFalse(r.metrics.get(3).skipped());
        assertNull(r.metrics.get(3).skipReason());
        assertEquals(4, t.optimizer().stepCount());
        assertEquals(5, t.globalStep());
        assertTrue(NonFinite.describe("w", t.params()) == null);
    }

    @Test
    void nonFiniteGradientAloneAlsoSkips() {
        TinyProblem p = new TinyProblem(1, 0.0, 1, 3);
        GradientSource poisoned = (step, mb) -> {
            StepResult res = p.source.compute(step, mb);
            if (step == 1) {
                Map<String, INDArray> g = new HashMap<>(res.gradients());
                INDArray b = g.get(TinyProblem.B).dup();
                b.putScalar(1, 2, Double.POSITIVE_INFINITY);
                g.put(TinyProblem.B, b);
                return new StepResult(res.loss(), res.tokens(), g);
            }
            return res;
        };
        Trainer t = new Trainer(base().maxSteps(3).build(), p.params, poisoned);
        Recorder r = record(t);
        t.train();
        StepMetrics m = r.metrics.get(1);
        assertTrue(m.skipped());
        assertTrue(Double.isFinite(m.loss()));
        assertTrue(m.skipReason().contains("gradient of 'lora_B' has 1 NaN/Inf value"), m.skipReason());
        assertBitEqual(r.weights.get(0), r.weights.get(1), "weights across the skipped step");
        assertBitEqual(r.moments.get(0), r.moments.get(1), "optimizer state across the skipped step");
    }

    @Test
    void stopsAfterMaxConsecutiveNonFiniteSteps() {
        TinyProblem p = new TinyProblem(1, 0.0, 1, 3);
        p.nanSteps.addAll(List.of(1L, 3L, 4L, 5L, 6L, 7L));
        Trainer t = new Trainer(base().maxSteps(20).maxConsecutiveNonfinite(3).build(), p.params, p.source);
        Recorder r = record(t);
        MorException e = assertThrows(MorException.class, t::train);
        // step 2 (index 1) is skipped alone; steps 4, 5, 6 are three in a row
        assertEquals(6, r.metrics.size());
        assertEquals(6, t.globalStep());
        assertTrue(e.getMessage().startsWith("step 6: training stopped after 3 consecutive steps with non-finite"
                + " values (max_consecutive_nonfinite = 3)"), e.getMessage());
        assertTrue(e.getMessage().contains("loss of micro-batch 0 is NaN"), e.getMessage());
        assertTrue(e.getMessage().contains("after step 3"), e.getMessage());
        assertBitEqual(r.weights.get(2), r.weights.get(5), "weights after the last good step");
        assertEquals(2, t.optimizer().stepCount());
    }

    @Test
    void gradientOfWrongShapeIsAClearError() {
        Map<String, INDArray> params = Map.of("w", Nd4j.zeros(DataType.FLOAT, 2, 2));
        GradientSource wrong = (step, mb) -> new StepResult(1.0, 1, Map.of("w", Nd4j.zeros(DataType.FLOAT, 4)));
        MorException e = assertThrows(MorException.class,
                () -> new Trainer(base().build(), params, wrong).train());
        assertTrue(e.getMessage().contains("gradient of 'w' has shape [4]; expected the weight's shape [2, 2]"),
                e.getMessage());
    }
}
