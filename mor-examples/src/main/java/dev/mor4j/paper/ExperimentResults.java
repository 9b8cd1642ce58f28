package dev.mor4j.paper;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Map;

/**
 * Everything the experiment measured and concluded, as written to {@code results.json}: the settings, the timings
 * the plan was estimated from, every run's raw result, the learning rate chosen for each method, the per-method
 * aggregates, the verdicts, and the wall-clock of this invocation and of all runs together.
 *
 * @param settings           the settings
 * @param paperSource        where the paper's numbers come from
 * @param timings            the timing of each method
 * @param chosenLr           each method's learning rate
 * @param lrChoice           how it was chosen
 * @param searchRuns         every search run
 * @param finalRuns          every final run
 * @param summaries          per method, mean ± sd over its final runs
 * @param claims             the paper's claims and their verdicts
 * @param runSeconds         the wall-clock of every run (training and evaluation) added up
 * @param invocationSeconds  the wall-clock of the invocation that wrote this file (finished runs it skipped not
 *                           included)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ExperimentResults(ExperimentSettings settings, String paperSource, List<MethodTiming> timings,
        Map<String, Double> chosenLr, String lrChoice, List<RunResult> searchRuns, List<RunResult> finalRuns,
        List<MethodSummary> summaries, List<Claim> claims, double runSeconds, double invocationSeconds) {

    /** The rule by which the learning rates are chosen. */
    static final String LR_CHOICE = "each method's learning rate is the grid value with the lowest validation loss"
            + " (mean loss per answer token on the held-out split) of its seed-0 search run; runs that diverged are"
            + " not chosen; with a one-value grid that value";
}
