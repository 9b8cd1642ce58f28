package dev.mor4j.paper;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mor4j.cli.TrainingPlots;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The experiment of the MoR paper's comparisons at small scale, end to end: reads the benchmark, times every method
 * ({@link TimingProbe}), refuses a plan over the budget ({@link TimeBudget}), then for every method runs the
 * learning-rate search (seed 0, {@link ValidationSplit}) and the final runs at the chosen rate, one per seed
 * ({@link MethodRun}), and writes {@value #RESULTS} (every run's raw numbers and settings), {@value #REPORT}
 * ({@link PaperReport}) and the pictures ({@link PaperPlots}) into the output directory.
 *
 * <p>Resumable: each finished run is kept as {@code runs/<phase>/<method>/lr-<lr>-seed-<seed>/run.json}, and a
 * rerun with the same settings skips it; {@value #SETTINGS} records the settings, and a rerun whose settings would
 * change a run's result is refused.
 */
public final class PaperExperiment {

    public static final String RESULTS = "results.json";
    public static final String REPORT = "report.md";
    public static final String SETTINGS = "experiment.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Whether to run the plan or only time the methods and print the estimate. */
    public enum Mode {
        RUN, ESTIMATE
    }

    private final ExperimentSettings s;
    private final Path out;
    private final PrintStream err;
    private int skipped;

    public PaperExperiment(ExperimentSettings settings, Path out, PrintStream err) {
        this.s = settings;
        this.out = out;
        this.err = err;
    }

    /**
     * Runs the experiment.
     *
     * @return the results, or empty in {@link Mode#ESTIMATE}
     * @throws MorException when the inputs are wrong, the output directory holds runs of other settings, or the plan
     *                      exceeds the budget
     */
    public Optional<ExperimentResults> run(Mode mode) {
        long start = System.nanoTime();
        checkSettings();
        Tokenizer tok = Tokenizer.load(Path.of(s.tokenizer()));
        BenchmarkData data = BenchmarkData.read(Path.of(s.tasks()), tok, s);
        err.printf(Locale.ROOT, "benchmark: %d tasks, %d training examples (%d held out for validation), %d"
                        + " multiple-choice and %d exact-match test items%n", data.tasks().size(), data.train().size(),
                data.split().validation().size(), data.mcCount(), data.genCount());
        LlamaModel model = LlamaModel.load(Path.of(s.base()));
        MethodRun runner = new MethodRun(model, tok, data, s);
        Map<PaperMethod, MethodTiming> timings = TimingProbe.timings(out, s, runner, data, err);
        int itemsPerTask = data.mc().values().stream().mapToInt(List::size).max().orElse(0);
        TimeBudget budget = new TimeBudget(s, timings, data.split().validation().size(), itemsPerTask);
        err.println(budget.check(pending()));
        if (mode == Mode.ESTIMATE) {
            return Optional.empty();
        }
        List<RunResult> search = new ArrayList<>();
        List<RunResult> finals = new ArrayList<>();
        Map<String, Double> chosen = new LinkedHashMap<>();
        int total = pending().stream().mapToInt(p -> p.searchRuns() + p.finalRuns()).sum();
        int[] done = {0};
        for (PaperMethod m : s.paperMethods()) {
            List<RunResult> mine = new ArrayList<>();
            if (s.searches()) {
                for (double lr : s.lrGrid()) {
                    mine.add(runOrLoad(runner, new RunSpec(m, RunSpec.Phase.SEARCH, lr, 0), done, total));
                }
            }
            search.addAll(mine);
            double lr = s.searches() ? best(m, mine) : s.lrGrid().get(0);
            chosen.put(m.cliName(), lr);
            for (long seed = 0; seed < s.seeds(); seed++) {
                finals.add(runOrLoad(runner, new RunSpec(m, RunSpec.Phase.FINAL, lr, seed), done, total));
            }
        }
        if (skipped > 0) {
            err.println("skipped " + skipped + " finished run(s) found in " + out.resolve("runs"));
        }
        List<MethodSummary> summaries = new ArrayList<>();
        Map<PaperMethod, MethodSummary> byMethod = new LinkedHashMap<>();
        for (PaperMethod m : s.paperMethods()) {
            MethodSummary summary = MethodSummary.of(finals.stream().filter(r -> r.method().equals(m.cliName()))
                    .toList(), data.tasks());
            summaries.add(summary);
            byMethod.put(m, summary);
        }
        double runSeconds = search.stream().mapToDouble(r -> r.trainSeconds() + r.evalSeconds()).sum()
                + finals.stream().mapToDouble(r -> r.trainSeconds() + r.evalSeconds()).sum();
        ExperimentResults results = new ExperimentResults(s, PaperNumbers.SOURCE, new ArrayList<>(timings.values()),
                chosen, ExperimentResults.LR_CHOICE, search, finals, summaries, ClaimCheck.claims(byMethod),
                runSeconds, (System.nanoTime() - start) / 1e9);
        write(results, data.tasks());
        return Optional.of(results);
    }

    /** Refuses an output directory holding runs of other settings; records these settings. */
    private void checkSettings() {
        Path file = out.resolve(SETTINGS);
        try {
            if (Files.isRegularFile(file)) {
                ExperimentSettings there = JSON.readValue(file.toFile(), ExperimentSettings.class);
                String difference = s.differenceFrom(there);
                if (difference != null) {
                    throw new MorException(file + ": the runs in " + out + " were made with other settings ("
                            + difference + "); use another --out, or the settings recorded there");
                }
            }
            Files.createDirectories(out);
            AtomicFiles.writeJson(file, JSON, s);
        } catch (IOException e) {
            throw new MorException(file + ": cannot read or write the experiment's settings: " + e.getMessage(), e);
        }
    }

    /** The runs still to do, per method (final runs count every seed until the method's search is complete). */
    private List<TimeBudget.Pending> pending() {
        List<TimeBudget.Pending> pending = new ArrayList<>();
        for (PaperMethod m : s.paperMethods()) {
            List<RunResult> found = new ArrayList<>();
            int searchPending = 0;
            if (s.searches()) {
                for (double lr : s.lrGrid()) {
                    RunSpec spec = new RunSpec(m, RunSpec.Phase.SEARCH, lr, 0);
                    Optional<RunResult> r = RunResult.find(spec.dir(out), spec, s.steps());
                    r.ifPresent(found::add);
                    searchPending += r.isEmpty() ? 1 : 0;
                }
            }
            int finalPending = s.seeds();
            if (searchPending == 0) {
                double lr = s.searches() ? best(m, found) : s.lrGrid().get(0);
                for (long seed = 0; seed < s.seeds(); seed++) {
                    RunSpec spec = new RunSpec(m, RunSpec.Phase.FINAL, lr, seed);
                    finalPending -= RunResult.find(spec.dir(out), spec, s.steps()).isPresent() ? 1 : 0;
                }
            }
            pending.add(new TimeBudget.Pending(m, searchPending, finalPending));
        }
        return pending;
    }

    /** The run's saved result, or the run itself (then saved). */
    private RunResult runOrLoad(MethodRun runner, RunSpec spec, int[] done, int total) {
        Path dir = spec.dir(out);
        Optional<RunResult> saved = RunResult.find(dir, spec, s.steps());
        if (saved.isPresent()) {
            skipped++;
            return saved.get();
        }
        done[0]++;
        err.printf(Locale.ROOT, "[%d/%d] %s ...%n", done[0], total, spec.label());
        RunResult r = runner.run(spec);
        r.save(dir);
        System.gc(); // the run's graphs are unreachable now: free their native arrays before the next run builds its own
        err.printf(Locale.ROOT, "[%d/%d] %s: %.1f s training (%.3f s/step), %.1f s evaluation, %s%s%n", done[0],
                total, spec.label(), r.trainSeconds(), r.secondsPerStep(), r.evalSeconds(),
                r.validationLoss() != null ? String.format(Locale.ROOT, "validation loss %.4f", r.validationLoss())
                        : r.accuracy() != null ? String.format(Locale.ROOT, "average accuracy %.3f, exact match %.3f",
                                r.averageAccuracy(), r.averageExactMatch()) : "no validation loss",
                r.diverged() ? " (diverged)" : "");
        return r;
    }

    /**
     * The learning rate of the lowest validation loss among a method's search runs (the first in grid order of
     * equal ones).
     *
     * @throws MorException when every search run diverged
     */
    private double best(PaperMethod m, List<RunResult> searchRuns) {
        RunResult best = null;
        for (RunResult r : searchRuns) {
            if (!r.diverged() && r.validationLoss() != null && Double.isFinite(r.validationLoss())
                    && (best == null || r.validationLoss() < best.validationLoss())) {
                best = r;
            }
        }
        if (best == null) {
            throw new MorException(m.cliName() + ": every learning rate of the grid " + s.lrGrid() + " diverged;"
                    + " add smaller ones to --lr-grid");
        }
        return best.lr();
    }

    /** Writes results.json, report.md and the pictures. */
    private void write(ExperimentResults results, List<String> tasks) {
        try {
            AtomicFiles.writeJson(out.resolve(RESULTS), JSON, results);
            AtomicFiles.writeString(out.resolve(REPORT), PaperReport.markdown(results, tasks));
        } catch (IOException e) {
            throw new MorException(out + ": cannot write the results: " + e.getMessage(), e);
        }
        PaperPlots.trainingCurves(results.summaries(), out.resolve(PaperReport.CURVES_PNG));
        PaperPlots.wallClock(results.summaries(), out.resolve(PaperReport.WALL_CLOCK_PNG));
        for (RunResult r : results.finalRuns()) {
            if (r.seed() != 0) {
                continue;
            }
            if (r.router() != null) {
                PaperPlots.router(r.router(), out.resolve(PaperReport.routerPng(r.method())),
                        r.method() + ": mean router weight on the test prompts");
            }
            if (r.ranks() != null) {
                TrainingPlots.ranks(r.ranks(), out.resolve(PaperReport.ranksPng(r.method())));
            }
        }
        err.println("wrote " + out.resolve(RESULTS) + ", " + out.resolve(REPORT) + " and the pictures");
    }
}
