package dev.mor4j.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MorException;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.Map;

/**
 * A {@link TrainListener} that appends one JSON object per optimizer step to a file (usually
 * {@code <out>/metrics.jsonl}), flushing each line so the file can be followed while training runs. A resumed
 * run appends to the same file. Numbers that are NaN or infinite are written as {@code null}, keeping every
 * line valid JSON.
 */
public final class MetricsLog implements TrainListener, Closeable {

    /** The usual file name in the output directory. */
    public static final String FILE = "metrics.jsonl";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;

    /** Opens {@code file} for appending, creating it and its directory if needed. */
    public MetricsLog(Path file) {
        this.file = file;
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
            this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new MorException(file + ": cannot open the metrics log: " + e.getMessage(), e);
        }
    }

    /** Opens {@code <dir>/metrics.jsonl}. */
    public static MetricsLog in(Path dir) {
        return new MetricsLog(dir.resolve(FILE));
    }

    @Override
    public void onStep(StepMetrics metrics) {
        ObjectNode line = JSON.valueToTree(metrics);
        for (Iterator<Map.Entry<String, JsonNode>> it = line.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().isNumber() && !Double.isFinite(e.getValue().doubleValue())) {
                e.setValue(line.nullNode());
            }
        }
        try {
            out.write(JSON.writeValueAsString(line));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new MorException(file + ": cannot write the metrics log: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new MorException(file + ": cannot close the metrics log: " + e.getMessage(), e);
        }
    }
}
