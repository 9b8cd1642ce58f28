package dev.mor4j.tasks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.generate.ChatTemplate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Writes a drawn benchmark as JSONL files (one JSON object per line, {@code \n} line ends, UTF-8, keys in a fixed
 * order, so equal splits give byte-identical files):
 * <ul>
 *   <li>{@value #TRAIN}, {@value #TEST}: Tulu-v2 conversations
 *       {@code {"dataset": TASK, "id": …, "messages": [{"role": "user", …}, {"role": "assistant", …}]}}</li>
 *   <li>{@value #TEST_MC}: the test items as multiple choice for {@code mor eval --tasks}:
 *       {@code {"task", "context", "choices", "label", "id"}}; the context is the chat prompt
 *       {@code <|user|>\n{prompt}\n<|assistant|>\n} and every choice is an answer followed by the EOS token
 *       {@code </s>}, as the model was trained to write it (so a distractor that is a prefix of the answer does
 *       not win by stopping early)</li>
 *   <li>{@value #TEST_GEN}: the test items for exact-match generation, {@code mor eval --generate}:
 *       {@code {"task", "id", "prompt", "answer"}}</li>
 *   <li>{@value #PRETRAIN}: the pre-training corpus as Tulu-v2 conversations ({@code dataset} =
 *       the operation)</li>
 * </ul>
 */
public final class BenchmarkFiles {

    public static final String TRAIN = "train.jsonl";
    public static final String TEST = "test.jsonl";
    public static final String TEST_MC = "test-mc.jsonl";
    public static final String TEST_GEN = "test-gen.jsonl";
    public static final String PRETRAIN = "pretrain.jsonl";
    /** Every file {@link #write} writes, in that order. */
    public static final List<String> FILES = List.of(TRAIN, TEST, TEST_MC, TEST_GEN, PRETRAIN);

    private static final ObjectMapper JSON = new ObjectMapper();

    private BenchmarkFiles() {
    }

    /** Writes the five files into {@code dir} (created when missing), replacing files of those names. */
    public static void write(Benchmark.Splits splits, Path dir) {
        write(dir.resolve(TRAIN), splits.train(), i -> tulu(i.task(), i.id(), i.prompt(), i.answer()));
        write(dir.resolve(TEST), splits.test(), i -> tulu(i.task(), i.id(), i.prompt(), i.answer()));
        write(dir.resolve(TEST_MC), splits.test(), BenchmarkFiles::multipleChoice);
        write(dir.resolve(TEST_GEN), splits.test(), BenchmarkFiles::generation);
        write(dir.resolve(PRETRAIN), splits.pretrain(), i -> tulu(i.operation(), i.id(), i.prompt(), i.answer()));
    }

    /** The text a chat model continues after one user prompt (what {@link ChatTemplate#tulu} makes, without BOS). */
    public static String chatContext(String prompt) {
        return "<|user|>\n" + prompt + "\n" + ChatTemplate.ASSISTANT_HEADER;
    }

    static ObjectNode tulu(String dataset, String id, String prompt, String answer) {
        ObjectNode row = JSON.createObjectNode();
        row.put("dataset", dataset);
        row.put("id", id);
        ArrayNode messages = row.putArray("messages");
        messages.addObject().put("role", "user").put("content", prompt);
        messages.addObject().put("role", "assistant").put("content", answer);
        return row;
    }

    static ObjectNode multipleChoice(BenchmarkItem item) {
        ObjectNode row = JSON.createObjectNode();
        row.put("task", item.task());
        row.put("context", chatContext(item.prompt()));
        ArrayNode choices = row.putArray("choices");
        item.choices().forEach(c -> choices.add(c + TaskTokenizer.EOS));
        row.put("label", item.label());
        row.put("id", item.id());
        return row;
    }

    static ObjectNode generation(BenchmarkItem item) {
        ObjectNode row = JSON.createObjectNode();
        row.put("task", item.task());
        row.put("id", item.id());
        row.put("prompt", item.prompt());
        row.put("answer", item.answer());
        return row;
    }

    private static <T> void write(Path file, List<T> items, Function<T, ObjectNode> toRow) {
        StringBuilder sb = new StringBuilder();
        try {
            for (T item : items) {
                sb.append(JSON.writeValueAsString(toRow.apply(item))).append('\n');
            }
            AtomicFiles.writeString(file, sb);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        } catch (IOException e) {
            throw new MorException(file + ": cannot write: " + e.getMessage(), e);
        }
    }
}
