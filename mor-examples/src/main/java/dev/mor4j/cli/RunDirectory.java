package dev.mor4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.FileTrees;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.train.CheckpointStore;
import dev.mor4j.core.train.MetricsLog;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.RouterStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The output directory of {@code mor finetune}, and the rules that keep users' files safe: a run writes into
 * a new or empty directory, or resumes in the directory of a previous run; it replaces a previous run only
 * with {@code --overwrite} (deleting only that run's own files), and writes into a directory holding other
 * files only with {@code --overwrite} (replacing only files with the run's names). A {@code config.json}
 * that mor did not write (a model's) is never replaced.
 */
final class RunDirectory {

    static final String CONFIG = "config.json";
    static final String LOSS_PNG = "loss.png";
    static final String ROUTER_PNG = "router.png";
    /** MoRE's rank selection: tasks × modules, coloured by the rank chosen. */
    static final String RANKS_PNG = "ranks.png";
    /** The value of {@code "run"} in the config.json of a fine-tuning run. */
    static final String KIND = "mor4j-finetune";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Checkpoint directories, and the final model of full fine-tuning, with their temporary forms. */
    private static final Pattern CHECKPOINT = Pattern.compile("\\.?checkpoint-\\d+(\\.tmp|\\.old)?|\\.?"
            + LlamaFineTune.FINAL_MODEL + "(\\.tmp)?");
    private static final List<String> RUN_FILES = List.of(CONFIG, MetricsLog.FILE, LOSS_PNG, ROUTER_PNG,
            RANKS_PNG, RouterStats.FILE, AdapterFiles.CONFIG, AdapterFiles.WEIGHTS);

    private RunDirectory() {
    }

    /** {@code runs/finetune-<date>-<time>} under the working directory, not yet existing. */
    static Path defaultFor(LocalDateTime now) {
        String stamp = now.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path p = Path.of("runs", "finetune-" + stamp);
        for (int i = 2; Files.exists(p); i++) {
            p = Path.of("runs", "finetune-" + stamp + "-" + i);
        }
        return p;
    }

    /** True when {@code dir} holds a config.json written by {@code mor finetune}. */
    static boolean isRun(Path dir) {
        Path cfg = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfg)) {
            return false;
        }
        try {
            return KIND.equals(JSON.readTree(cfg.toFile()).path("run").asText());
        } catch (IOException e) {
            return false;
        }
    }

    /** The run directory a {@code --resume} argument names: the directory itself, or a checkpoint's parent. */
    static Path runOf(Path resume) {
        Path abs = resume.toAbsolutePath().normalize();
        if (Files.isRegularFile(abs.resolve(CheckpointStore.STATE)) && abs.getParent() != null) {
            return abs.getParent();
        }
        return abs;
    }

    /** Reads the config.json of a previous run. */
    static ObjectNode readConfig(Path runDir) {
        Path cfg = runDir.resolve(CONFIG);
        if (!isRun(runDir)) {
            throw new MorException(runDir + ": not the output of mor finetune (no " + CONFIG + " with \"run\": \""
                    + KIND + "\"); --resume expects a run directory or one of its checkpoint-<step> directories");
        }
        try {
            JsonNode n = JSON.readTree(cfg.toFile());
            if (!n.path("settings").isObject()) {
                throw new MorException(cfg + ": 'settings' is missing; expected the flags of the run");
            }
            return (ObjectNode) n;
        } catch (IOException e) {
            throw new MorException(cfg + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Checks that a run may write into {@code out}; creates nothing.
     *
     * @param resumingHere true when the run continues a previous run in {@code out}
     * @return true when {@code out} holds a previous run whose files must be cleared first
     * @throws MorException naming the directory and the way out when it may not
     */
    static boolean check(Path out, boolean resumingHere, boolean overwrite) {
        if (!Files.exists(out)) {
            return false;
        }
        if (!Files.isDirectory(out)) {
            throw new MorException(out + ": exists and is not a directory; choose another --out");
        }
        if (isEmpty(out)) {
            return false;
        }
        if (isRun(out)) {
            if (resumingHere) {
                return false;
            }
            if (overwrite) {
                return true;
            }
            throw new MorException(out + ": holds a previous run; continue it with --resume " + out
                    + ", or pass --overwrite to replace it (only its own files are deleted)");
        }
        if (Files.exists(out.resolve(CONFIG))) {
            throw new MorException(out + ": holds a " + CONFIG + " that mor finetune did not write (a model's?);"
                    + " choose another --out");
        }
        if (!overwrite) {
            throw new MorException(out + ": is not empty and holds no previous run; choose another --out, or pass"
                    + " --overwrite to write into it (files with the run's names are replaced, others are kept)");
        }
        return false;
    }

    /**
     * Deletes a previous run's files (its config, metrics, plots, adapter or final model, and checkpoints), nothing
     * else.
     */
    static void clearPreviousRun(Path out) {
        try {
            for (String f : RUN_FILES) {
                Files.deleteIfExists(out.resolve(f));
            }
            try (Stream<Path> s = Files.list(out)) {
                for (Path p : s.toList()) {
                    if (Files.isDirectory(p) && CHECKPOINT.matcher(p.getFileName().toString()).matches()) {
                        FileTrees.deleteRecursively(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new MorException(out + ": cannot delete the previous run's files: " + e.getMessage(), e);
        }
    }

    /** Writes {@code out/config.json} (via a temporary file and a rename). */
    static void writeConfig(Path out, ObjectNode config) {
        Path file = out.resolve(CONFIG);
        try {
            AtomicFiles.writeJson(file, JSON, config);
        } catch (IOException e) {
            throw new MorException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new MorException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }
}
