package dev.mor4j.llama.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading and trimming a {@code metrics.jsonl} ({@link dev.mor4j.core.train.MetricsLog}): one JSON object per
 * step, with at least {@code step}, {@code loss} and {@code lr}.
 */
public final class MetricsFile {

    private static final ObjectMapper JSON = new ObjectMapper();

    private MetricsFile() {
    }

    /**
     * The lines of a metrics file, in order; a line that is not JSON (a crash in mid-write) is skipped.
     *
     * @return an empty list if the file does not exist
     */
    public static List<JsonNode> read(Path file) {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    out.add(JSON.readTree(line));
                } catch (IOException partial) {
                    // a line cut short by a crash: ignore it
                }
            }
        } catch (IOException e) {
            throw new MorException(file + ": cannot read the metrics: " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Removes the lines of steps after {@code step} (and unreadable ones), so that a run resumed at
     * {@code step} appends its steps after those of the checkpoint. Rewritten via a temporary file and a rename.
     */
    public static void keepStepsUpTo(Path file, long step) {
        if (!Files.isRegularFile(file)) {
            return;
        }
        StringBuilder kept = new StringBuilder();
        for (JsonNode n : read(file)) {
            if (n.path("step").asLong(Long.MAX_VALUE) <= step) {
                kept.append(n).append('\n');
            }
        }
        try {
            AtomicFiles.writeString(file, kept);
        } catch (IOException e) {
            throw new MorException(file + ": cannot rewrite the metrics: " + e.getMessage(), e);
        }
    }
}
