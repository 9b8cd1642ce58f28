package dev.mor4j.core.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mor4j.core.FileTrees;
import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Checkpoint directories {@code <out>/checkpoint-<step>} and their rotation.
 *
 * <p>A checkpoint holds {@value #WEIGHTS} (the trainable weights by name), {@value #OPTIMIZER} (AdamW's
 * moments as {@code <name>.exp_avg} and {@code <name>.exp_avg_sq}), {@value #STATE} ({@link TrainerState}) and
 * whatever the caller's {@link CheckpointHook} writes. It is built in {@code <out>/.checkpoint-<step>.tmp}, every
 * file is flushed to disk, and the directory is then renamed into place, so a crash leaves either the complete
 * checkpoint or none. Arrays holding NaN or Inf are never written. Older checkpoints beyond
 * {@code save_total_limit} are deleted only after the new one is complete.
 */
public final class CheckpointStore {

    public static final String WEIGHTS = "trainable.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "trainer_state.json";
    public static final String PREFIX = "checkpoint-";
    static final String EXP_AVG = ".exp_avg";
    static final String EXP_AVG_SQ = ".exp_avg_sq";

    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d{1,18})");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * A checkpoint read back.
     *
     * @param directory the checkpoint directory
     * @param state     its trainer state
     * @param weights   trainable weights by name
     * @param expAvg    first moments by weight name
     * @param expAvgSq  second moments by weight name
     */
    public record Checkpoint(Path directory, TrainerState state, Map<String, INDArray> weights,
                             Map<String, INDArray> expAvg, Map<String, INDArray> expAvgSq) {
    }

    private final Path outputDir;
    private final int saveTotalLimit;

    /**
     * @param outputDir      where checkpoint directories go (created when the first one is saved)
     * @param saveTotalLimit keep only the newest this many checkpoints; 0 keeps all
     */
    public CheckpointStore(Path outputDir, int saveTotalLimit) {
        if (saveTotalLimit < 0) {
            throw new MorException("save_total_limit is " + saveTotalLimit + "; expected ≥ 0 (0 keeps all)");
        }
        this.outputDir = outputDir;
        this.saveTotalLimit = saveTotalLimit;
    }

    public Path outputDir() {
        return outputDir;
    }

    /** {@code <out>/checkpoint-<step>}. */
    public Path directory(long step) {
        return outputDir.resolve(PREFIX + step);
    }

    /**
     * Writes {@code checkpoint-<global step>} atomically (replacing one of the same step), then deletes the
     * oldest checkpoints beyond the limit.
     *
     * @param hook writes the caller's files into the checkpoint; may be null
     * @return the checkpoint directory
     * @throws MorException if a weight or optimizer moment holds NaN/Inf (nothing is written then), if the hook
     *                      writes one of the trainer's file names, or if writing fails
     */
    public Path save(TrainerState state, Map<String, INDArray> weights, AdamW optimizer, CheckpointHook hook) {
        long step = state.globalStep();
        Path target = directory(step);
        String bad = firstNonFinite(weights, optimizer);
        if (bad != null) {
            throw new MorException(target + ": refusing to write the checkpoint: " + bad
                    + "; a checkpoint never holds non-finite values");
        }
        Path tmp = outputDir.resolve("." + PREFIX + step + ".tmp");
        Path old = outputDir.resolve("." + PREFIX + step + ".old");
        boolean done = false;
        try {
            Files.createDirectories(outputDir);
            FileTrees.deleteRecursively(tmp);
            Files.createDirectory(tmp);
            if (hook != null) {
                hook.write(tmp, step);
                for (String reserved : new String[] {WEIGHTS, OPTIMIZER, STATE}) {
                    if (Files.exists(tmp.resolve(reserved))) {
                        throw new MorException(target + ": the checkpoint hook wrote '" + reserved
                                + "', a name the trainer reserves for its own file");
                    }
                }
            }
            SafetensorsWriter.write(tmp.resolve(WEIGHTS), weights, Map.of("format", "pt"));
            Map<String, INDArray> moments = new LinkedHashMap<>();
            for (String name : optimizer.expAvg().keySet()) {
                moments.put(name + EXP_AVG, optimizer.expAvg().get(name));
                moments.put(name + EXP_AVG_SQ, optimizer.expAvgSq().get(name));
            }
            SafetensorsWriter.write(tmp.resolve(OPTIMIZER), moments,
                    Map.of("format", "pt", "step", Long.toString(optimizer.stepCount())));
            JSON.writeValue(tmp.resolve(STATE).toFile(), state);
            FileTrees.syncRecursively(tmp);
            if (Files.exists(target)) {
                FileTrees.deleteRecursively(old);
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            FileTrees.syncDirectory(outputDir);
            done = true;
            FileTrees.deleteRecursively(old);
        } catch (AtomicMoveNotSupportedException e) {
            throw new MorException(target + ": the file system cannot rename directories atomically", e);
        } catch (IOException e) {
            throw new MorException(target + ": cannot write the checkpoint: " + e.getMessage(), e);
        } finally {
            if (!done) {
                FileTrees.deleteQuietly(tmp);
            }
        }
        rotate(target);
        return target;
    }

    /** Existing checkpoint directories, oldest (lowest step) first. Temporary directories are not listed. */
    public List<Path> checkpoints() {
        if (!Files.isDirectory(outputDir)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(outputDir)) {
            s.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p)).forEach(out::add);
        } catch (IOException e) {
            throw new MorException(outputDir + ": cannot list checkpoints: " + e.getMessage(), e);
        }
        out.sort(Comparator.comparingLong(CheckpointStore::stepOf));
        return out;
    }

    /** The checkpoint with the highest step, if any. */
    public Optional<Path> latest() {
        List<Path> all = checkpoints();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /**
     * Reads a checkpoint directory.
     *
     * @throws MorException naming the file and what was expected if a file is missing or malformed
     */
    public static Checkpoint read(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new MorException(dir + ": not a directory; expected a checkpoint directory (" + PREFIX + "<step>)"
                    + " holding " + WEIGHTS + ", " + OPTIMIZER + " and " + STATE);
        }
        for (String f : new String[] {STATE, WEIGHTS, OPTIMIZER}) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new MorException(dir.resolve(f) + ": not found; a checkpoint directory holds " + WEIGHTS + ", "
                        + OPTIMIZER + " and " + STATE);
            }
        }
        TrainerState state = readState(dir.resolve(STATE));
        Map<String, INDArray> weights = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(WEIGHTS))) {
            for (String k : f.keys()) {
                weights.put(k, f.getFloat(k));
            }
        }
        Map<String, INDArray> expAvg = new LinkedHashMap<>();
        Map<String, INDArray> expAvgSq = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(OPTIMIZER))) {
            for (String k : f.keys()) {
                if (k.endsWith(EXP_AVG_SQ)) {
                    expAvgSq.put(k.substring(0, k.length() - EXP_AVG_SQ.length()), f.getFloat(k));
                } else if (k.endsWith(EXP_AVG)) {
                    expAvg.put(k.substring(0, k.length() - EXP_AVG.length()), f.getFloat(k));
                } else {
                    throw new MorException(dir.resolve(OPTIMIZER) + ": key '" + k + "' is not optimizer state;"
                            + " expected keys '<weight>" + EXP_AVG + "' and '<weight>" + EXP_AVG_SQ + "'");
                }
            }
        }
        return new Checkpoint(dir, state, weights, expAvg, expAvgSq);
    }

    private static TrainerState readState(Path file) {
        TrainerState s;
        try {
            s = new ObjectMapper().readValue(file.toFile(), TrainerState.class);
        } catch (IOException e) {
            Throwable c = e.getCause() instanceof MorException ? e.getCause() : e;
            throw new MorException(file + ": not a valid trainer state: " + c.getMessage(), e);
        }
        if (s.formatVersion() != TrainerState.FORMAT_VERSION) {
            throw new MorException(file + ": format_version " + s.formatVersion() + "; this version reads "
                    + TrainerState.FORMAT_VERSION);
        }
        if (s.config() == null) {
            throw new MorException(file + ": 'config' is missing; expected the training config of the run");
        }
        if (s.globalStep() < 0 || s.optimizerStep() < 0 || s.optimizerStep() > s.globalStep()) {
            throw new MorException(file + ": global_step " + s.globalStep() + " and optimizer_step "
                    + s.optimizerStep() + " are inconsistent; expected 0 ≤ optimizer_step ≤ global_step");
        }
        return s;
    }

    private static String firstNonFinite(Map<String, INDArray> weights, AdamW optimizer) {
        String bad = NonFinite.describe("trainable weight", weights);
        if (bad == null) {
            bad = NonFinite.describe("optimizer exp_avg of", optimizer.expAvg());
        }
        if (bad == null) {
            bad = NonFinite.describe("optimizer exp_avg_sq of", optimizer.expAvgSq());
        }
        return bad;
    }

    /** Deletes the oldest checkpoints beyond the limit, never {@code keep}. */
    private void rotate(Path keep) {
        if (saveTotalLimit <= 0) {
            return;
        }
        List<Path> all = checkpoints();
        int excess = all.size() - saveTotalLimit;
        for (Path p : all) {
            if (excess <= 0) {
                break;
            }
            if (!p.equals(keep)) {
                try {
                    FileTrees.deleteRecursively(p);
                } catch (IOException e) {
                    throw new MorException(p + ": cannot delete an old checkpoint: " + e.getMessage(), e);
                }
                excess--;
            }
        }
    }

    private static long stepOf(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }
}
