package dev.mor4j.paper;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.MorException;
import java.util.List;

/**
 * What the experiment runs: the same for every method (steps, batch, length, learning-rate grid, seeds), so that no
 * method is tuned more than another. Saved in {@code experiment.json} of the output directory; a rerun into the same
 * directory must agree on the settings that change a run's result ({@link #sameRunsAs}).
 *
 * @param tasks              the benchmark directory ({@code mor make-tasks --out})
 * @param base               the base model directory
 * @param tokenizer          the tokenizer directory
 * @param methods            the methods, in table order
 * @param seeds              runs per method at its chosen learning rate (seeds 0 … seeds−1)
 * @param steps              optimizer steps of every run
 * @param lrGrid             learning rates tried for every method (seed 0, on the train split less the validation
 *                           split); with one value there is nothing to choose and no search runs
 * @param batch              examples per step
 * @param maxLen             most tokens per training example
 * @param testPerTask        test items per task evaluated (the first ones of each task in the test files); 0 for all
 * @param maxNewTokens       most tokens generated per exact-match answer; 0 for the expected answer's tokens + 8 + EOS
 * @param validationFraction the fraction of each task's training examples held out for choosing the learning rate
 * @param budgetMinutes      the most minutes the planned runs may take
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ExperimentSettings(String tasks, String base, String tokenizer, List<String> methods, int seeds,
        long steps, List<Double> lrGrid, int batch, int maxLen, int testPerTask, int maxNewTokens,
        double validationFraction, double budgetMinutes) {

    /** Warm-up fraction of the linear schedule, as {@code mor finetune}'s default. */
    public static final double WARMUP_RATIO = 0.03;
    /** Gradient clipping, as {@code mor finetune}'s default. */
    public static final double MAX_GRAD_NORM = 1.0;

    public ExperimentSettings {
        methods = List.copyOf(methods);
        lrGrid = List.copyOf(lrGrid);
        if (methods.isEmpty()) {
            throw new MorException("--methods is empty; expected method names such as lora-r8,mor-e8-r8");
        }
        if (seeds < 1) {
            throw new MorException("--seeds is " + seeds + "; expected at least 1");
        }
        if (steps < 1) {
            throw new MorException("--steps is " + steps + "; expected at least 1");
        }
        if (lrGrid.isEmpty() || lrGrid.stream().anyMatch(lr -> !(lr > 0 && Double.isFinite(lr)))) {
            throw new MorException("--lr-grid is " + lrGrid + "; expected learning rates > 0 such as 1e-3,3e-3,1e-2");
        }
        if (lrGrid.stream().distinct().count() != lrGrid.size()) {
            throw new MorException("--lr-grid " + lrGrid + " lists a learning rate twice");
        }
        if (batch < 1 || maxLen < 2 || testPerTask < 0 || maxNewTokens < 0) {
            throw new MorException("expected --batch ≥ 1, --max-len ≥ 2, --test-per-task ≥ 0 and --max-new-tokens ≥ 0; got "
                    + batch + ", " + maxLen + ", " + testPerTask + ", " + maxNewTokens);
        }
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new MorException("the validation fraction is " + validationFraction + "; expected (0, 1)");
        }
        if (!(budgetMinutes > 0)) {
            throw new MorException("--budget-minutes is " + budgetMinutes + "; expected a number > 0");
        }
    }

    /** The methods, parsed. */
    public List<PaperMethod> paperMethods() {
        return methods.stream().map(PaperMethod::parse).toList();
    }

    /** Whether the learning rate is chosen by search runs (a grid of more than one value). */
    public boolean searches() {
        return lrGrid.size() > 1;
    }

    /**
     * Whether finished runs of {@code other} are runs of these settings: the same data, model, steps, batch,
     * length, test items and validation split (methods, seeds, grid and budget may differ: their runs are named by
     * method, learning rate and seed).
     *
     * @return null when they agree, else what differs
     */
    public String differenceFrom(ExperimentSettings other) {
        StringBuilder d = new StringBuilder();
        differs(d, "tasks", tasks, other.tasks);
        differs(d, "base", base, other.base);
        differs(d, "tokenizer", tokenizer, other.tokenizer);
        differs(d, "steps", steps, other.steps);
        differs(d, "batch", batch, other.batch);
        differs(d, "max_len", maxLen, other.maxLen);
        differs(d, "test_per_task", testPerTask, other.testPerTask);
        differs(d, "max_new_tokens", maxNewTokens, other.maxNewTokens);
        differs(d, "validation_fraction", validationFraction, other.validationFraction);
        return d.length() == 0 ? null : d.toString();
    }

    /** True when {@link #differenceFrom} finds nothing. */
    public boolean sameRunsAs(ExperimentSettings other) {
        return differenceFrom(other) == null;
    }

    private static void differs(StringBuilder d, String key, Object a, Object b) {
        if (!a.equals(b)) {
            d.append(d.length() == 0 ? "" : ", ").append(key).append(' ').append(b).append(" there, ").append(a)
                    .append(" now");
        }
    }
}
