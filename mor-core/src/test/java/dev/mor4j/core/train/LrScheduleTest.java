package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LrScheduleTest {

    private static final double LR = 2e-4;

    /** Hugging Face's linear λ, written out independently (transformers.optimization._get_linear_schedule...). */
    private static double hfLinear(long step, long warmup, long total) {
        if (step < warmup) {
            return step / (double) Math.max(1, warmup);
        }
        return Math.max(0.0, (total - step) / (double) Math.max(1, total - warmup));
    }

    private static double hfCosine(long step, long warmup, long total) {
        if (step < warmup) {
            return step / (double) Math.max(1, warmup);
        }
        double progress = (step - warmup) / (double) Math.max(1, total - warmup);
        return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
    }

    @Test
    void warmupStepsAreTheCeilingOfRatioTimesTotal() {
        assertEquals(3, LrSchedule.warmupSteps(100, 0.03));
        assertEquals(1, LrSchedule.warmupSteps(7, 0.03)); // 0.21 rounds up
        assertEquals(3, LrSchedule.warmupSteps(7, 0.3)); // 2.1 rounds up
        assertEquals(30, LrSchedule.warmupSteps(1000, 0.03));
        assertEquals(0, LrSchedule.warmupSteps(1000, 0.0));
    }

    @Test
    void linearMatchesHuggingFaceFormula() {
        long[][] settings = {{100, 3}, {10, 1}, {7, 3}, {50, 0}, {5, 5}};
        for (long[] s : settings) {
            long total = s[0];
            long warmup = s[1];
            LrSchedule sch = new LrSchedule(LrSchedulerType.LINEAR, LR, warmup, total);
            for (long k = 0; k <= total + 2; k++) {
                assertEquals(LR * hfLinear(k, warmup, total), sch.lr(k), 0.0, "total " + total + " warmup " + warmup + " step " + k);
            }
        }
    }

    @Test
    void linearKnownValues() {
        LrSchedule sch = new LrSchedule(LrSchedulerType.LINEAR, 1.0, 1, 10);
        assertEquals(0.0, sch.lr(0)); // the first update uses rate 0 during warmup, as in Hugging Face
        assertEquals(1.0, sch.lr(1));
        assertEquals(5.0 / 9.0, sch.lr(5), 1e-15);
        assertEquals(0.0, sch.lr(10));
        LrSchedule w4 = new LrSchedule(LrSchedulerType.LINEAR, 1.0, 4, 20);
        assertEquals(0.25, w4.lr(1));
        assertEquals(0.75, w4.lr(3));
        assertEquals(1.0, w4.lr(4));
        assertEquals(0.5, w4.lr(12));
    }

    @Test
    void cosineMatchesHuggingFaceFormula() {
        long[][] settings = {{100, 3}, {100, 10}, {7, 1}, {1, 0}, {30, 30}};
        for (long[] s : settings) {
            long total = s[0];
            long warmup = s[1];
            LrSchedule sch = new LrSchedule(LrSchedulerType.COSINE, LR, warmup, total);
            for (long k = 0; k <= total + 2; k++) {
                assertEquals(LR * hfCosine(k, warmup, total), sch.lr(k), 0.0, "total " + total + " warmup " + warmup + " step " + k);
            }
        }
        LrSchedule c = new LrSchedule(LrSchedulerType.COSINE, 1.0, 10, 100);
        assertEquals(1.0, c.lr(10), 1e-15);
        assertEquals(0.5, c.lr(55), 1e-15); // half way through the decay: cos(π/2) = 0
        assertEquals(0.0, c.lr(100), 1e-15);
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 22 / 90.0)), c.lr(32), 1e-15);
    }

    @Test
    void constantHasNoWarmupAndConstantWithWarmupHasOne() {
        LrSchedule c = new LrSchedule(LrSchedulerType.CONSTANT, LR, 5, 100);
        for (long k = 0; k < 100; k++) {
            assertEquals(LR, c.lr(k));
        }
        LrSchedule w = new LrSchedule(LrSchedulerType.CONSTANT_WITH_WARMUP, LR, 4, 100);
        assertEquals(0.0, w.lr(0));
        assertEquals(LR / 2, w.lr(2));
        assertEquals(LR, w.lr(4));
        assertEquals(LR, w.lr(99));
    }

    @Test
    void fromConfigUsesRatioAndMaxSteps() {
        TrainConfig cfg = TrainConfig.builder().maxSteps(200).warmupRatio(0.03).learningRate(1e-3)
                .lrScheduler(LrSchedulerType.COSINE).build();
        LrSchedule s = LrSchedule.of(cfg);
        assertEquals(6, s.warmupSteps());
        assertEquals(200, s.totalSteps());
        assertEquals(1e-3 * hfCosine(77, 6, 200), s.lr(77), 0.0);
        assertEquals(1e-3 * 5 / 6.0, s.lr(5), 0.0);
    }
}
