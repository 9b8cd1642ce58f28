package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.paper.ExperimentResults;
import dev.mor4j.paper.ExperimentSettings;
import dev.mor4j.paper.PaperExperiment;
import dev.mor4j.paper.PaperMethod;
import dev.mor4j.tasks.BenchmarkFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mor paper}: the MoR paper's comparisons at small scale ({@link PaperExperiment}): every method fine-tuned
 * with the same steps and the same learning-rate grid, evaluated on the benchmark of {@code mor make-tasks}, and
 * tabulated against the paper.
 */
@Command(name = "paper", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Reproduce the MoR paper's comparisons (Tables 1, 3, 4 and Fig. 7) at small scale on the"
                + " benchmark of make-tasks: LoRA r8/r16, DoRA r8, MoE-LoRA E2 r8, MoR E1/E2/E4/E8 at r8, MoR E8 at"
                + " r4/r16/r32, MoR E8 with the mean and balanced routers, MoRE and full fine-tuning.",
            "Every method: the same steps, the same learning-rate grid (best by validation loss on a held-out part"
                    + " of train.jsonl, seed 0), then --seeds runs at that rate; multiple-choice and exact-match"
                    + " accuracy per task, router weights per task, MoRE's ranks, wall-clock.",
            "Writes results.json, report.md and PNGs to --out; finished runs are kept there and skipped by a rerun."
                    + " Times every method first and refuses a plan over --budget-minutes, naming what would fit.",
            "Progress goes to standard error; the report's verdicts to standard output.", ""})
final class PaperCommand implements Callable<Integer> {

    /** Defaults of the full experiment. */
    static final long DEFAULT_STEPS = 300;
    static final String DEFAULT_GRID = "1e-3,3e-3,1e-2";
    /** Defaults of --smoke. */
    static final long SMOKE_STEPS = 4;
    static final String SMOKE_GRID = "1e-2";
    static final int SMOKE_NEW_TOKENS = 3;

    @Option(names = "--tasks", paramLabel = "DIR", required = true,
            description = "The benchmark (mor make-tasks --out DIR): train.jsonl, test-mc.jsonl, test-gen.jsonl.")
    Path tasks;

    @Option(names = "--base", paramLabel = "DIR", required = true, description = "The base model directory.")
    Path base;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "The tokenizer directory (default: the benchmark's, DIR/tokenizer).")
    Path tokenizer;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "Output directory: results.json, report.md, PNGs, and every finished run (resumable).")
    Path out;

    @Option(names = "--seeds", paramLabel = "N",
            description = "Runs per method at its chosen learning rate (default: 3; 1 with --smoke).")
    Integer seeds;

    @Option(names = "--steps", paramLabel = "N",
            description = "Optimizer steps of every run (default: " + DEFAULT_STEPS + "; " + SMOKE_STEPS
                    + " with --smoke).")
    Long steps;

    @Option(names = "--lr-grid", paramLabel = "X,Y,...",
            description = "Learning rates tried for every method (default: " + DEFAULT_GRID + "; " + SMOKE_GRID
                    + " with --smoke). One value: no search.")
    String lrGrid;

    @Option(names = "--methods", paramLabel = "NAME,...", split = ",",
            description = "Methods to run (default: all; with --smoke one per family: lora-r8, dora-r8, moelora-e2-r8,"
                    + " mor-e8-r8, more-r8, full).")
    List<String> methods;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8",
            description = "Examples per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--max-len", paramLabel = "N", defaultValue = "64",
            description = "Most tokens per training example; longer ones stop the run (default: ${DEFAULT-VALUE}).")
    int maxLen;

    @Option(names = "--test-per-task", paramLabel = "N", defaultValue = "0",
            description = "Test items per task evaluated, the first of each task; 0 for all (default: ${DEFAULT-VALUE}).")
    int testPerTask;

    @Option(names = "--max-new-tokens", paramLabel = "N",
            description = "Most tokens generated per exact-match answer; 0 for the expected answer's tokens + 8 + EOS"
                    + " (default: 0; " + SMOKE_NEW_TOKENS + " with --smoke).")
    Integer maxNewTokens;

    @Option(names = "--validation-fraction", paramLabel = "X", defaultValue = "0.1",
            description = "Fraction of each task's training examples held out to choose the learning rate"
                    + " (default: ${DEFAULT-VALUE}).")
    double validationFraction;

    @Option(names = "--budget-minutes", paramLabel = "N", defaultValue = "180",
            description = "Refuse a plan estimated to take longer (default: ${DEFAULT-VALUE}).")
    double budgetMinutes;

    @Option(names = "--smoke", description = "A tiny version for CI: one method per family, one seed, "
            + SMOKE_STEPS + " steps, one learning rate, answers of at most " + SMOKE_NEW_TOKENS + " tokens (each unless"
            + " given).")
    boolean smoke;

    @Option(names = "--estimate", description = "Time every method, print the estimate, and stop.")
    boolean estimate;

    @Override
    public Integer call() {
        if (!Files.isDirectory(base)) {
            throw new MorException(base + ": not a directory (expected a Hugging Face model directory for --base)");
        }
        Path tok = tokenizer != null ? tokenizer : tasks.resolve("tokenizer");
        List<String> names = methods != null ? methods
                : (smoke ? PaperMethod.SMOKE : Arrays.asList(PaperMethod.values())).stream().map(PaperMethod::cliName)
                        .toList();
        ExperimentSettings s = new ExperimentSettings(abs(tasks), abs(base), abs(tok), names,
                seeds != null ? seeds : smoke ? 1 : 3, steps != null ? steps : smoke ? SMOKE_STEPS : DEFAULT_STEPS,
                parseGrid(lrGrid != null ? lrGrid : smoke ? SMOKE_GRID : DEFAULT_GRID), batch, maxLen, testPerTask,
                maxNewTokens != null ? maxNewTokens : smoke ? SMOKE_NEW_TOKENS : 0, validationFraction, budgetMinutes);
        s.paperMethods(); // unknown names stop here, before anything is read
        if (!Files.isRegularFile(tasks.resolve(BenchmarkFiles.TRAIN))) {
            throw new MorException(tasks.resolve(BenchmarkFiles.TRAIN) + ": not found; expected the benchmark of"
                    + " mor make-tasks --out " + tasks);
        }
        Optional<ExperimentResults> results = new PaperExperiment(s, out.toAbsolutePath().normalize(), System.err)
                .run(estimate ? PaperExperiment.Mode.ESTIMATE : PaperExperiment.Mode.RUN);
        results.ifPresent(r -> r.claims().forEach(c -> System.out.println(c.claim() + ": " + c.verdict().text()
                + " (" + c.ours() + ")")));
        System.out.flush();
        return 0;
    }

    /** {@code 1e-3,3e-3} → [0.001, 0.003]. */
    static List<Double> parseGrid(String grid) {
        try {
            return Arrays.stream(grid.split(",")).map(String::strip).map(Double::valueOf).toList();
        } catch (NumberFormatException e) {
            throw new MorException("--lr-grid '" + grid + "': expected numbers separated by commas, e.g. "
                    + DEFAULT_GRID);
        }
    }

    private static String abs(Path p) {
        return p.toAbsolutePath().normalize().toString();
    }
}
