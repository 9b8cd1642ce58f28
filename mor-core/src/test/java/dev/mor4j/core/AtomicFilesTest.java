package dev.mor4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @TempDir
    Path dir;

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void replacesTheFileAndLeavesNothingElse() throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "old");
        AtomicFiles.writeJson(file, new ObjectMapper(), Map.of("r", 8));
        assertEquals("{\"r\":8}", Files.readString(file));
        assertEquals(List.of(file), files());
    }

    @Test
    void aFailedWriteKeepsTheOldFileAndRemovesTheTemporaryOne() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        Files.writeString(file, "old\n");
        assertThrows(IOException.class, () -> AtomicFiles.write(file, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("disk full");
        }));
        assertEquals("old\n", Files.readString(file));
        assertEquals(List.of(file), files());
    }

    @Test
    void createsMissingParentDirectories() throws IOException {
        Path file = dir.resolve("run/out/eval.json");
        AtomicFiles.writeString(file, "{}\n");
        assertEquals("{}\n", Files.readString(file));
    }
}
