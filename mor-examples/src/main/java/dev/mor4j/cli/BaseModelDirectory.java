package dev.mor4j.cli;

import dev.mor4j.core.FileTrees;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.tasks.TaskTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The output directory of {@code mor make-base}, and the rules that keep users' files safe. The model is assembled
 * in a staging directory beside {@code --out} ({@code .<name>.make-base.tmp}) and renamed into place only once
 * complete, so {@code --out} never holds half a model. A directory that exists and is not empty is replaced only with
 * {@code --overwrite}, and only when everything in it is a file {@code make-base} writes (a base model written
 * earlier): a directory holding anything else is refused, whatever the flags, and nothing in it is touched. The
 * {@code --tasks} directory and its tokenizer directory are never an output.
 */
final class BaseModelDirectory {

    /** Where the pre-training record goes inside the model directory (a folder: models derived from the base do not copy it). */
    static final String PRETRAINING = "pretraining";
    /** The settings and results of the pre-training, in {@link #PRETRAINING}. */
    static final String RECORD = "make_base.json";
    /** The value of {@code "run"} in {@link #RECORD}. */
    static final String KIND = "mor4j-make-base";

    /** Every name {@code make-base} writes at the top of its output directory. */
    static final Set<String> WRITTEN = Set.of("config.json", "model.safetensors", "model.safetensors.index.json",
            Tokenizer.FILE_NAME, TaskTokenizer.TOKENIZER_CONFIG, "special_tokens_map.json", PRETRAINING);

    private final Path out;
    private final Path staging;

    private BaseModelDirectory(Path out) {
        this.out = out;
        this.staging = out.getParent().resolve("." + out.getFileName() + ".make-base.tmp");
    }

    /**
     * Checks that a base model may be written as {@code out}; creates nothing.
     *
     * @param inputs the {@code --tasks} directory and the directories read from it, which {@code out} may not be
     *               nor contain
     * @throws MorException naming the directory and the way out when it may not
     */
    static BaseModelDirectory check(Path out, boolean overwrite, Path... inputs) {
        Path abs = real(out);
        if (abs.getParent() == null) {
            throw new MorException(out + ": cannot be the output directory (the file system's root); choose another --out");
        }
        for (Path in : inputs) {
            Path input = real(in);
            if (input.startsWith(abs)) {
                throw new MorException(out + ": " + (input.equals(abs) ? "is" : "contains") + " an input of make-base ("
                        + in + "); choose another --out");
            }
        }
        if (!Files.exists(abs)) {
            return new BaseModelDirectory(abs);
        }
        if (!Files.isDirectory(abs)) {
            throw new MorException(out + ": exists and is not a directory; choose another --out");
        }
        List<String> names = list(abs);
        if (names.isEmpty()) {
            return new BaseModelDirectory(abs);
        }
        Set<String> others = new TreeSet<>(names);
        others.removeAll(WRITTEN);
        if (!others.isEmpty()) {
            throw new MorException(out + ": holds files make-base does not write (" + String.join(", ", others)
                    + "); it replaces only an empty directory or a base model it wrote: choose another --out");
        }
        if (!overwrite) {
            throw new MorException(out + ": holds a model; pass --overwrite to replace it, or choose another --out");
        }
        return new BaseModelDirectory(abs);
    }

    /** The output directory, absolute. */
    Path out() {
        return out;
    }

    /**
     * Creates the empty staging directory the model is written into (removing one a crashed run left).
     *
     * @return the staging directory
     */
    Path stage() {
        try {
            FileTrees.deleteRecursively(staging);
            Files.createDirectories(staging.resolve(PRETRAINING));
            return staging;
        } catch (IOException e) {
            throw new MorException(staging + ": cannot create the staging directory: " + e.getMessage(), e);
        }
    }

    /**
     * Renames the complete staging directory into place as the output directory, replacing what {@link #check}
     * allowed: the previous directory is renamed aside first and deleted only once the new one is in place (and put
     * back when the rename fails).
     */
    void commit() {
        Path old = out.getParent().resolve("." + out.getFileName() + ".make-base.old");
        try {
            FileTrees.syncRecursively(staging);
            FileTrees.deleteRecursively(old);
            boolean replacing = Files.exists(out);
            if (replacing) {
                Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
            }
            try {
                Files.move(staging, out, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (replacing) {
                    Files.move(old, out, StandardCopyOption.ATOMIC_MOVE);
                }
                throw e;
            }
            FileTrees.syncDirectory(out.getParent());
            FileTrees.deleteRecursively(old);
        } catch (IOException e) {
            throw new MorException(out + ": cannot move the model into place (it is complete in " + staging + "): "
                    + e.getMessage(), e);
        }
    }

    /** Deletes the staging directory (after a failure; the output directory is untouched). */
    void discard() {
        FileTrees.deleteQuietly(staging);
    }

    /** The path with links resolved where it exists, else absolute and normalised. */
    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    private static List<String> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            throw new MorException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }
}
