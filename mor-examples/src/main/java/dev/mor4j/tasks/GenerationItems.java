package dev.mor4j.tasks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads exact-match generation items, JSONL rows {@code {"task": "…", "prompt": "…", "answer": "…"}} with an
 * optional string {@code id} (other fields are ignored; blank lines are skipped). The task and prompt must be
 * non-empty, the answer non-blank. Any defect stops the read with a {@link MorException} naming
 * {@code file:line} and the problem.
 */
public final class GenerationItems {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private GenerationItems() {
    }

    /** The items of a file, in file order. */
    public static List<GenerationItem> read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new MorException(file + ": no such file");
        }
        List<GenerationItem> items = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (!line.isBlank()) {
                    items.add(parse(line, file + ":" + lineNo));
                }
            }
        } catch (MalformedInputException e) {
            throw new MorException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new MorException(file + ": cannot read: " + e.getMessage());
        }
        if (items.isEmpty()) {
            throw new MorException(file + ": no generation rows");
        }
        return items;
    }

    private static GenerationItem parse(String line, String at) {
        JsonNode row;
        try {
            row = MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new MorException(at + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (!row.isObject()) {
            throw new MorException(at + ": expected a JSON object {\"task\", \"prompt\", \"answer\"}");
        }
        String task = string(row, "task", at);
        String prompt = string(row, "prompt", at);
        String answer = string(row, "answer", at);
        if (task.isBlank() || prompt.isBlank() || answer.isBlank()) {
            throw new MorException(at + ": \"" + (task.isBlank() ? "task" : prompt.isBlank() ? "prompt" : "answer")
                    + "\" is empty");
        }
        JsonNode id = row.get("id");
        if (id != null && !id.isNull() && !id.isTextual()) {
            throw new MorException(at + ": \"id\" is " + id.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)
                    + ", expected a string");
        }
        return new GenerationItem(task, id != null && id.isTextual() ? id.asText() : at, prompt, answer, at);
    }

    private static String string(JsonNode row, String field, String at) {
        JsonNode n = row.get(field);
        if (n == null || !n.isTextual()) {
            throw new MorException(at + ": \"" + field + "\" is " + (n == null ? "missing"
                    : n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)) + ", expected a string");
        }
        return n.asText();
    }
}
