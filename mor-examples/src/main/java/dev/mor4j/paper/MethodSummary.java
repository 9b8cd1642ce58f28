package dev.mor4j.paper;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.MorException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * One method's final runs (one per seed, at its chosen learning rate) aggregated: mean ± sample standard deviation
 * over the seeds of each task's accuracy, of the average over tasks (each task counting once), of the exact match,
 * of the wall-clock and of the router's {@link Specialisation} (trained and at initialisation); and the mean training
 * loss of each step over the seeds.
 *
 * @param method              the method's name
 * @param trainableParameters parameters it trains
 * @param lr                  the learning rate its runs used
 * @param seeds               the seeds run
 * @param accuracy            multiple-choice accuracy per task
 * @param averageAccuracy     the mean over tasks
 * @param exactMatch          exact match per task
 * @param averageExactMatch   the mean over tasks
 * @param trainSeconds        wall-clock of a run's training (building it included)
 * @param secondsPerStep      wall-clock of a step
 * @param evalSeconds         wall-clock of a run's evaluation
 * @param finalLoss           training loss of the last tenth of the steps
 * @param specialisation      the router's specialisation index after training (MoR, MoE-LoRA)
 * @param specialisationAtInit the same before training
 * @param meanLoss            the training loss of every step, averaged over the seeds
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record MethodSummary(String method, long trainableParameters, double lr, List<Long> seeds,
        Map<String, MeanSd> accuracy, MeanSd averageAccuracy, Map<String, MeanSd> exactMatch,
        MeanSd averageExactMatch, MeanSd trainSeconds, MeanSd secondsPerStep, MeanSd evalSeconds, MeanSd finalLoss,
        MeanSd specialisation, MeanSd specialisationAtInit, double[] meanLoss) {

    /**
     * Aggregates final runs of one method.
     *
     * @throws MorException when there are none, or they are of different methods or learning rates
     */
    static MethodSummary of(List<RunResult> runs, List<String> tasks) {
        if (runs.isEmpty()) {
            throw new MorException("no final run to aggregate");
        }
        RunResult first = runs.get(0);
        if (runs.stream().anyMatch(r -> !r.method().equals(first.method()) || r.lr() != first.lr())) {
            throw new MorException("final runs of " + first.method() + " at different learning rates or methods");
        }
        Map<String, MeanSd> acc = new LinkedHashMap<>();
        Map<String, MeanSd> em = new LinkedHashMap<>();
        for (String t : tasks) {
            acc.put(t, over(runs, r -> r.accuracy().get(t)));
            em.put(t, over(runs, r -> r.exactMatch().get(t)));
        }
        boolean router = first.router() != null;
        int steps = runs.stream().mapToInt(r -> r.loss().length).min().orElse(0);
        double[] meanLoss = new double[steps];
        for (int i = 0; i < steps; i++) {
            final int step = i;
            meanLoss[i] = runs.stream().mapToDouble(r -> r.loss()[step]).average().orElse(Double.NaN);
        }
        return new MethodSummary(first.method(), first.trainableParameters(), first.lr(),
                runs.stream().map(RunResult::seed).toList(), acc, over(runs, RunResult::averageAccuracy), em,
                over(runs, RunResult::averageExactMatch), over(runs, RunResult::trainSeconds),
                over(runs, RunResult::secondsPerStep), over(runs, RunResult::evalSeconds),
                over(runs, RunResult::finalLoss),
                router ? over(runs, r -> Specialisation.index(r.router())) : null,
                router ? over(runs, r -> Specialisation.index(r.routerAtInit())) : null, meanLoss);
    }

    /** The method, parsed. */
    @JsonIgnore
    public PaperMethod paperMethod() {
        return PaperMethod.parse(method);
    }

    private static MeanSd over(List<RunResult> runs, ToDoubleFunction<RunResult> f) {
        return MeanSd.of(runs.stream().mapToDouble(f).toArray());
    }
}
