package dev.mor4j.paper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TimeBudgetTest {

    /** 1 s per step, 10 s to set a run up, 20 s to build the evaluation, 1 s per test item per task. */
    private static final MethodTiming TIMING = new MethodTiming("lora-r8", 100, 1.0, 10, 20, 1.0, 1);

    private static ExperimentSettings settings(long steps, int seeds, List<Double> grid, double budgetMinutes) {
        return new ExperimentSettings("tasks", "base", "tok", List.of("lora-r8", "mor-e8-r8"), seeds, steps, grid, 8,
                64, 0, 0, 0.1, budgetMinutes);
    }

    private static TimeBudget budget(ExperimentSettings s) {
        // 16 validation examples: 2 batches of 8, half a step each, plus the evaluation's 20 s; 100 test items
        return new TimeBudget(s, Map.of(PaperMethod.LORA_R8, TIMING, PaperMethod.MOR_E8_R8, TIMING), 16, 100);
    }

    @Test
    void countsSearchAndFinalRunsFromTheTimings() {
        ExperimentSettings s = settings(100, 3, List.of(1e-3, 1e-2), 600);
        // a search run: 10 + 100 + 20 + 1 = 131 s; a final run: 10 + 100 + 20 + 100 = 230 s
        double seconds = budget(s).seconds(List.of(new TimeBudget.Pending(PaperMethod.LORA_R8, 2, 3),
                new TimeBudget.Pending(PaperMethod.MOR_E8_R8, 0, 1)));
        assertEquals(2 * 131 + 3 * 230 + 230, seconds, 1e-9);
        String line = budget(s).check(List.of(new TimeBudget.Pending(PaperMethod.LORA_R8, 2, 3)));
        assertTrue(line.startsWith("estimate: 5 runs to do (2 search, 3 final), about 16 min"), line);
    }

    @Test
    void aPlanOverTheBudgetIsRefusedNamingWhatWouldFit() {
        ExperimentSettings s = settings(100, 3, List.of(1e-3, 1e-2), 20); // the whole plan: 2 × (262 + 690) s ≈ 32 min
        List<TimeBudget.Pending> all = List.of(new TimeBudget.Pending(PaperMethod.LORA_R8, 2, 3),
                new TimeBudget.Pending(PaperMethod.MOR_E8_R8, 2, 3));
        MorException e = assertThrows(MorException.class, () -> budget(s).check(all));
        String m = e.getMessage();
        assertTrue(m.startsWith("the plan has 10 runs to do (4 search, 6 final), about 32 min"), m);
        assertTrue(m.contains("more than --budget-minutes 20. What would fit (each alone): --steps "), m);
        assertTrue(m.contains("; or --seeds 1;"), m); // 2 × (262 + 230) s = 16.4 min
        assertTrue(m.endsWith("--steps 28; or --seeds 1; or --budget-minutes 32"), m); // 904 + 10 · 28 s ≤ 1200 s
        assertFalse(m.contains("a grid of"), "one rate alone: 2 × 3 × 230 s = 23 min");
        assertFalse(m.contains("--test-per-task"), "the rest is over the budget without any test item");
    }
}
