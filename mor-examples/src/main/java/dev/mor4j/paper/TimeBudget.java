package dev.mor4j.paper;

import dev.mor4j.core.MorException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The experiment's time before it runs: for every method its search runs (one per grid learning rate, seed 0:
 * training plus a validation loss) and its final runs (one per seed: training plus the test evaluation), from the
 * method's {@link MethodTiming}, counting only the runs not finished yet. {@link #check} refuses a plan that exceeds
 * the budget, naming what would fit: fewer steps, seeds, grid points or test items (each changed alone, counted as
 * if no run were finished).
 */
final class TimeBudget {

    /** Runs of one method still to do. */
    record Pending(PaperMethod method, int searchRuns, int finalRuns) {
    }

    private final ExperimentSettings s;
    private final Map<PaperMethod, MethodTiming> timings;
    private final int validationExamples;
    private final int testItemsPerTask;

    TimeBudget(ExperimentSettings s, Map<PaperMethod, MethodTiming> timings, int validationExamples,
            int testItemsPerTask) {
        this.s = s;
        this.timings = timings;
        this.validationExamples = validationExamples;
        this.testItemsPerTask = testItemsPerTask;
    }

    /** Seconds of the pending runs. */
    double seconds(List<Pending> pending) {
        double total = 0;
        for (Pending p : pending) {
            total += p.searchRuns() * searchRun(p.method(), s.steps()) + p.finalRuns() * finalRun(p.method(),
                    s.steps(), testItemsPerTask);
        }
        return total;
    }

    private double searchRun(PaperMethod m, long steps) {
        MethodTiming t = timings.get(m);
        return t.trainingSeconds(steps) + t.validationSeconds(validationExamples, s.batch());
    }

    private double finalRun(PaperMethod m, long steps, int items) {
        MethodTiming t = timings.get(m);
        return t.trainingSeconds(steps) + t.evalSeconds(items);
    }

    /** Seconds of the whole plan with these choices, no run finished. */
    private double planSeconds(long steps, int seeds, int gridPoints, int items) {
        double total = 0;
        for (PaperMethod m : s.paperMethods()) {
            total += (gridPoints > 1 ? gridPoints * searchRun(m, steps) : 0) + seeds * finalRun(m, steps, items);
        }
        return total;
    }

    /**
     * Prints nothing; returns the estimate's line, e.g. {@code estimate: 150 runs to do, about 171 min}.
     *
     * @throws MorException when the pending runs exceed the budget, naming what would fit
     */
    String check(List<Pending> pending) {
        double seconds = seconds(pending);
        int runs = pending.stream().mapToInt(p -> p.searchRuns() + p.finalRuns()).sum();
        String line = String.format(Locale.ROOT, "estimate: %d runs to do (%d search, %d final), about %.0f min"
                        + " (budget %.0f min)", runs, pending.stream().mapToInt(Pending::searchRuns).sum(),
                pending.stream().mapToInt(Pending::finalRuns).sum(), seconds / 60, s.budgetMinutes());
        double budget = s.budgetMinutes() * 60;
        if (seconds <= budget) {
            return line;
        }
        List<String> fits = new ArrayList<>();
        long steps = s.steps();
        while (steps > 1 && planSeconds(steps, s.seeds(), s.lrGrid().size(), testItemsPerTask) > budget) {
            steps = Math.max(1, (long) Math.floor(steps * 0.9));
        }
        if (steps < s.steps() && planSeconds(steps, s.seeds(), s.lrGrid().size(), testItemsPerTask) <= budget) {
            fits.add("--steps " + steps);
        }
        for (int seeds = s.seeds() - 1; seeds >= 1; seeds--) {
            if (planSeconds(s.steps(), seeds, s.lrGrid().size(), testItemsPerTask) <= budget) {
                fits.add("--seeds " + seeds);
                break;
            }
        }
        for (int g = s.lrGrid().size() - 1; g >= 1; g--) {
            if (planSeconds(s.steps(), s.seeds(), g, testItemsPerTask) <= budget) {
                fits.add("a grid of " + g + " learning rate" + (g == 1 ? " (no search)" : "s"));
                break;
            }
        }
        for (int items = testItemsPerTask - 1; items >= 1; items = items > 10 ? items * 9 / 10 : items - 1) {
            if (planSeconds(s.steps(), s.seeds(), s.lrGrid().size(), items) <= budget) {
                fits.add("--test-per-task " + items);
                break;
            }
        }
        fits.add(String.format(Locale.ROOT, "--budget-minutes %.0f", Math.ceil(seconds / 60)));
        throw new MorException(line.replace("estimate: ", "the plan has ") + ", more than --budget-minutes "
                + String.format(Locale.ROOT, "%.0f", s.budgetMinutes()) + ". What would fit (each alone): "
                + String.join("; or ", fits));
    }
}
