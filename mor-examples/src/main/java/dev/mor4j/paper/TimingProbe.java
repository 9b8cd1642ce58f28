package dev.mor4j.paper;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Times every method before the experiment runs: a run of {@value #STEPS} steps on the training examples at the
 * experiment's batch and length (seed 0, the grid's smallest learning rate), then its evaluation on the first
 * {@value #ITEMS_PER_TASK} test item(s) of each task, through the same code as the experiment's runs
 * ({@link MethodRun}). The timings are kept in {@value #FILE} of the output directory, with the settings they were
 * measured at, and reused by a rerun with the same model, tokenizer, batch, length and answer budget.
 */
final class TimingProbe {

    /** The file in the output directory. */
    static final String FILE = "timing.json";
    /** Steps of a timing run: the first warms up, the others are timed. */
    static final long STEPS = 5;
    /** Test items per task of a timing run's evaluation. */
    static final int ITEMS_PER_TASK = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The saved timings and what they were measured at. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Saved(String base, String tokenizer, int batch, int maxLen, int maxNewTokens, List<MethodTiming> timings) {
    }

    private TimingProbe() {
    }

    /**
     * The timing of every method of the settings: read from {@value #FILE} when measured at the same model,
     * tokenizer, batch and length, else measured now (and saved).
     */
    static Map<PaperMethod, MethodTiming> timings(Path out, ExperimentSettings s, MethodRun runner,
            BenchmarkData data, PrintStream err) {
        Path file = out.resolve(FILE);
        Map<String, MethodTiming> known = new LinkedHashMap<>();
        if (Files.isRegularFile(file)) {
            Saved saved = read(file);
            if (saved.base().equals(s.base()) && saved.tokenizer().equals(s.tokenizer()) && saved.batch() == s.batch()
                    && saved.maxLen() == s.maxLen() && saved.maxNewTokens() == s.maxNewTokens()) {
                saved.timings().forEach(t -> known.put(t.method(), t));
            }
        }
        Map<PaperMethod, MethodTiming> measured = new LinkedHashMap<>();
        BenchmarkData sample = data.firstTestItems(ITEMS_PER_TASK);
        double lr = s.lrGrid().stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        for (PaperMethod m : s.paperMethods()) {
            MethodTiming t = known.get(m.cliName());
            if (t == null) {
                RunResult r = runner.run(new RunSpec(m, RunSpec.Phase.FINAL, lr, 0), data.train(), STEPS, sample);
                t = new MethodTiming(m.cliName(), r.trainableParameters(), r.secondsPerStep(),
                        Math.max(0, r.trainSeconds() - STEPS * r.secondsPerStep()), r.evalSetupSeconds(),
                        r.evalItemSeconds(), ITEMS_PER_TASK);
                known.put(m.cliName(), t);
                save(file, new Saved(s.base(), s.tokenizer(), s.batch(), s.maxLen(), s.maxNewTokens(),
                        new ArrayList<>(known.values())));
            }
            err.printf(Locale.ROOT, "timing %-20s %,12d params  %7.3f s/step  setup %5.1f s  evaluation %5.1f s + %5.2f s"
                            + " per %d test item(s) per task%n", m.cliName(), t.trainableParameters(), t.secondsPerStep(),
                    t.setupSeconds(), t.evalSetupSeconds(), t.sampleItemSeconds(), t.sampleItemsPerTask());
            measured.put(m, t);
        }
        return measured;
    }

    private static Saved read(Path file) {
        try {
            return JSON.readValue(file.toFile(), Saved.class);
        } catch (IOException e) {
            throw new MorException(file + ": not a timing file (" + e.getMessage() + "); delete it to time again", e);
        }
    }

    private static void save(Path file, Saved saved) {
        try {
            Files.createDirectories(file.getParent());
            AtomicFiles.writeJson(file, JSON, saved);
        } catch (IOException e) {
            throw new MorException(file + ": cannot write: " + e.getMessage(), e);
        }
    }
}
