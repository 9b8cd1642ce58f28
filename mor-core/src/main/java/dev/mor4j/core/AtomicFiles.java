package dev.mor4j.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Replaces a file by writing a temporary file beside it and renaming it over the target, so that a crash or
 * a failed write never leaves the user's file half-written: the old file stays until the new one is complete.
 * The temporary file is removed when anything fails. Callers wrap the {@link IOException} in a message that
 * names the file and what it holds.
 */
public final class AtomicFiles {

    /** Writes the whole content of the temporary file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path tmp) throws IOException;
    }

    private AtomicFiles() {
    }

    /** Creates the parent directories, writes {@code content} to a temporary file beside {@code file}, renames it. */
    public static void write(Path file, Content content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            content.writeTo(tmp);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** {@link #write} of UTF-8 text. */
    public static void writeString(Path file, CharSequence text) throws IOException {
        write(file, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
    }

    /** {@link #write} of {@code value} as JSON. */
    public static void writeJson(Path file, ObjectMapper json, Object value) throws IOException {
        write(file, tmp -> json.writeValue(tmp.toFile(), value));
    }
}
