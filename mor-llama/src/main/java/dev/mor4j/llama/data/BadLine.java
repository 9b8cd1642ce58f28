package dev.mor4j.llama.data;

import java.nio.file.Path;

/**
 * A line of a JSONL file that could not be used, and why.
 *
 * @param path       the file
 * @param lineNumber the line, counting from 1
 * @param reason     what is wrong with it
 */
public record BadLine(Path path, long lineNumber, String reason) {

    /** {@code FILE:LINE: reason}. */
    @Override
    public String toString() {
        return path + ":" + lineNumber + ": " + reason;
    }
}
