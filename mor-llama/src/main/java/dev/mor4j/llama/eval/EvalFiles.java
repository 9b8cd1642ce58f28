package dev.mor4j.llama.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the evaluation inputs, JSONL files with one JSON object per line (blank lines are skipped). Any defect
 * stops the read with a {@link MorException} naming {@code file:line} and the problem.
 * <ul>
 *   <li>tasks: {@code {"task": "…", "context": "…", "choices": ["…", …], "label": i}}: a non-empty task name,
 *       a string context (may be empty), at least two non-empty string choices, an integer label indexing
 *       them</li>
 *   <li>texts: {@code {"text": "…"}}: a string</li>
 * </ul>
 * Other fields are ignored.
 */
public final class EvalFiles {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private EvalFiles() {
    }

    /** Multiple-choice rows, in file order. */
    public static List<MultipleChoiceItem> readTasks(Path file) {
        List<MultipleChoiceItem> items = new ArrayList<>();
        forEachObject(file, (at, row) -> {
            String task = string(row, "task", at);
            if (task.isBlank()) {
                throw new MorException(at + ": \"task\" is empty");
            }
            String context = string(row, "context", at);
            JsonNode choices = row.get("choices");
            if (choices == null || !choices.isArray()) {
                throw new MorException(at + ": \"choices\" is " + kind(choices) + ", expected an array of strings");
            }
            List<String> list = new ArrayList<>();
            for (int i = 0; i < choices.size(); i++) {
                JsonNode c = choices.get(i);
                if (!c.isTextual()) {
                    throw new MorException(at + ": choices[" + i + "] is " + kind(c) + ", expected a string");
                }
                if (c.asText().isEmpty()) {
                    throw new MorException(at + ": choices[" + i + "] is empty: there is nothing to score");
                }
                list.add(c.asText());
            }
            if (list.size() < 2) {
                throw new MorException(at + ": \"choices\" has " + list.size() + " entr" + (list.size() == 1 ? "y" : "ies")
                        + ", expected at least 2");
            }
            JsonNode label = row.get("label");
            if (label == null || !label.isIntegralNumber()) {
                throw new MorException(at + ": \"label\" is " + kind(label) + ", expected an integer choice index");
            }
            if (!label.canConvertToInt() || label.asInt() < 0 || label.asInt() >= list.size()) {
                throw new MorException(at + ": \"label\" " + label + " is not a choice index [0, " + list.size() + ")");
            }
            items.add(new MultipleChoiceItem(task, context, list, label.asInt(), at));
        });
        if (items.isEmpty()) {
            throw new MorException(file + ": no task rows");
        }
        return items;
    }

    /** The {@code text} of every row, in file order. */
    public static List<String> readTexts(Path file) {
        List<String> texts = new ArrayList<>();
        forEachObject(file, (at, row) -> texts.add(string(row, "text", at)));
        if (texts.isEmpty()) {
            throw new MorException(file + ": no text rows");
        }
        return texts;
    }

    /** What {@link #forEachObject} hands each row to: its place ({@code file:line}) and the row. */
    public interface RowHandler {
        void accept(String at, JsonNode row);
    }

    /**
     * Reads a JSONL file of JSON objects, one per line (blank lines skipped), and hands each to {@code handler} with
     * its place {@code file:line}. A missing file, bytes that are not UTF-8, a line that is not valid JSON or not an
     * object stop the read with a {@link MorException} naming the file (and line).
     */
    public static void forEachObject(Path file, RowHandler handler) {
        if (!Files.isRegularFile(file)) {
            throw new MorException(file + ": no such file");
        }
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String at = file + ":" + lineNo;
                JsonNode row;
                try {
                    row = MAPPER.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new MorException(at + ": not valid JSON: " + e.getOriginalMessage());
                }
                if (!row.isObject()) {
                    throw new MorException(at + ": expected a JSON object, found " + kind(row));
                }
                handler.accept(at, row);
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new MorException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new MorException(file + ": cannot read: " + e.getMessage());
        }
    }

    private static String string(JsonNode row, String field, String at) {
        JsonNode n = row.get(field);
        if (n == null || !n.isTextual()) {
            throw new MorException(at + ": \"" + field + "\" is " + kind(n) + ", expected a string");
        }
        return n.asText();
    }

    private static String kind(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "missing";
        }
        return switch (n.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number (" + n + ")";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
