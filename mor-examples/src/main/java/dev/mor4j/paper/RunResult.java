package dev.mor4j.paper;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.eval.RouterProbe;
import dev.mor4j.llama.train.RankSelection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

/**
 * What one run measured, saved as {@value #FILE} in its directory when it is finished (so a rerun skips it).
 * Accuracies are fractions in [0, 1].
 *
 * @param method              the method's name
 * @param phase               {@code search} or {@code final}
 * @param lr                  peak learning rate
 * @param seed                seed of initialisation, shuffling and dropout
 * @param steps               optimizer steps
 * @param trainExamples       examples trained on
 * @param trainableParameters parameters trained
 * @param trainSeconds        wall-clock of building the run and training it
 * @param secondsPerStep      mean wall-clock of a step after the first (the first also warms up), NaN with one step
 * @param evalSetupSeconds    wall-clock of building its evaluation's graphs
 * @param evalItemSeconds     wall-clock of evaluating (validation loss, or the test items and the router weights on
 *                            the test prompts)
 * @param loss                the training loss of every step (NaN where a step was skipped as non-finite)
 * @param diverged            whether training stopped early on repeated non-finite losses (the weights are those
 *                            of the last finite update)
 * @param validationLoss      search runs: mean loss per answer token of the validation split
 * @param accuracy            final runs: multiple-choice accuracy per task
 * @param exactMatch          final runs: exact-match accuracy per task
 * @param router              final runs of MoR and MoE-LoRA: mean router weights per task on the test prompts
 * @param routerAtInit        the same, measured before training (the baseline of specialisation)
 * @param ranks               final runs of MoRE: the rank each task chose in each module
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunResult(String method, String phase, double lr, long seed, long steps, int trainExamples,
        long trainableParameters, double trainSeconds, double secondsPerStep, double evalSetupSeconds,
        double evalItemSeconds, double[] loss, boolean diverged, Double validationLoss, Map<String, Double> accuracy,
        Map<String, Double> exactMatch, RouterProbe.TaskWeights router, RouterProbe.TaskWeights routerAtInit,
        RankSelection ranks) {

    /** The file name in a run's directory. */
    public static final String FILE = "run.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The wall-clock of its evaluation, graphs and items. */
    public double evalSeconds() {
        return evalSetupSeconds + evalItemSeconds;
    }

    /** The mean accuracy over tasks (each task counts once). */
    public double averageAccuracy() {
        return average(accuracy);
    }

    /** The mean exact match over tasks. */
    public double averageExactMatch() {
        return average(exactMatch);
    }

    /** The mean training loss of the last tenth of the steps (at least one). */
    public double finalLoss() {
        int n = Math.max(1, loss.length / 10);
        return Arrays.stream(loss, Math.max(0, loss.length - n), loss.length).average().orElse(Double.NaN);
    }

    private static double average(Map<String, Double> perTask) {
        if (perTask == null || perTask.isEmpty()) {
            return Double.NaN;
        }
        return perTask.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Writes {@value #FILE} into {@code dir} (atomically, so an interrupted write leaves no result). */
    public void save(Path dir) {
        Path file = dir.resolve(FILE);
        try {
            Files.createDirectories(dir);
            AtomicFiles.writeJson(file, JSON, this);
        } catch (IOException e) {
            throw new MorException(file + ": cannot write the run's result: " + e.getMessage(), e);
        }
    }

    /**
     * The result saved in {@code dir}, if the run finished.
     *
     * @throws MorException naming the file when it cannot be read, or it is of another run than {@code spec}
     */
    public static Optional<RunResult> find(Path dir, RunSpec spec, long steps) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        RunResult r;
        try {
            r = JSON.readValue(file.toFile(), RunResult.class);
        } catch (IOException e) {
            throw new MorException(file + ": not a run result (" + e.getMessage() + "); delete it to rerun the run", e);
        }
        if (!r.method().equals(spec.method().cliName()) || r.lr() != spec.lr() || r.seed() != spec.seed()
                || !r.phase().equals(spec.phase().dirName()) || r.steps() != steps) {
            throw new MorException(file + ": holds " + r.method() + " lr " + r.lr() + " seed " + r.seed() + " ("
                    + r.phase() + ", " + r.steps() + " steps); expected " + spec.label() + " with " + steps
                    + " steps");
        }
        return Optional.of(r);
    }
}
