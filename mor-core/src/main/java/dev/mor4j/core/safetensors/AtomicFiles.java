package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Files written under a temporary name ({@code .NAME.RANDOM.tmp} in the target's directory, so the rename stays
 * on one file system) and renamed over their target atomically once complete: a reader sees the old file or the
 * new one, never a partial one.
 */
final class AtomicFiles {

    private AtomicFiles() {
    }

    /** The absolute path to write, checked: not a directory, in an existing directory. */
    static Path target(Path file) {
        String where = file.toString();
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (Files.isDirectory(target)) {
            throw new MorException(where + ": is a directory; expected a file path to write safetensors to");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new MorException(where + ": the directory " + dir + " does not exist; create it first");
        }
        return target;
    }

    /** A new empty file {@code .NAME.RANDOM.tmp} in {@code dir}. */
    static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path temp = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                    + ".tmp");
            try {
                // created with the default permissions, like the file it replaces would be
                return Files.createFile(temp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /** Renames a finished temporary file over {@code target} atomically; on failure removes it and throws. */
    static void commit(Path temp, Path target) {
        boolean moved = false;
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } catch (AtomicMoveNotSupportedException e) {
            throw new MorException(target + ": the file system cannot rename atomically within "
                    + target.getParent() + "; refusing to replace the file non-atomically", e);
        } catch (IOException e) {
            throw new MorException(target + ": cannot write: " + e.getMessage(), e);
        } finally {
            if (!moved) {
                deleteQuietly(temp);
            }
        }
    }

    /** Removes {@code p} if it exists (null is allowed); a failure is ignored: this runs on failure paths. */
    static void deleteQuietly(Path p) {
        if (p == null) {
            return;
        }
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // nothing more to do; the target was not touched
        }
    }
}
