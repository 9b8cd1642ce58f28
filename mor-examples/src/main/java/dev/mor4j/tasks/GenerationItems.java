package dev.mor4j.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.eval.EvalFiles;
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

    private GenerationItems() {
    }

    /** The items of a file, in file order. */
    public static List<GenerationItem> read(Path file) {
        List<GenerationItem> items = new ArrayList<>();
        EvalFiles.forEachObject(file, (at, row) -> items.add(parse(row, at)));
        if (items.isEmpty()) {
            throw new MorException(file + ": no generation rows");
        }
        return items;
    }

    private static GenerationItem parse(JsonNode row, String at) {
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
