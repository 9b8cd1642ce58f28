package dev.mor4j.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark tokenizer against the HF {@code tokenizers} library: {@code src/test/resources/tasks} holds the
 * tokenizer that {@code mor make-tasks --seed 0 --train-per-task 200 --test-per-task 50 --pretrain-per-op 200}
 * trains, and the ids, tokens and decodings HF {@code tokenizers} gives for texts of the benchmark
 * ({@code src/test/python/tasks_tokenizer_golden.py} wrote them).
 */
class TaskTokenizerHfGoldenTest {

    @TempDir
    Path tmp;

    private static Path golden() throws Exception {
        return Path.of(TaskTokenizerHfGoldenTest.class.getResource("/tasks/tokenizer.json").toURI()).getParent();
    }

    @Test
    void encodesAndDecodesAsHfTokenizersDoes() throws Exception {
        Tokenizer tok = Tokenizer.load(golden());
        JsonNode rows = new ObjectMapper().readTree(golden().resolve("hf_ids.json").toFile()).get("texts");
        assertEquals(77, rows.size());
        for (JsonNode row : rows) {
            String text = row.get("text").asText();
            assertArrayEquals(ints(row.get("ids")), tok.encode(text, true), text);
            int[] ids = tok.encode(text, false);
            assertArrayEquals(ints(row.get("ids_no_special")), ids, text);
            List<String> tokens = new ArrayList<>();
            row.get("tokens_no_special").forEach(t -> tokens.add(t.asText()));
            assertEquals(tokens, tok.tokens(text, false), text);
            assertEquals(row.get("decoded_no_special").asText(), tok.decode(ids, false), text);
        }
    }

    @Test
    void theTrainerStillWritesTheGoldenTokenizer() throws Exception {
        Benchmark.Splits splits = Benchmark.builder().seed(0).trainPerTask(200).testPerTask(50)
                .pretrainPerOperation(200).build().generate();
        TaskTokenizer.write(TaskTokenizer.train(splits, 640, 10), tmp);
        for (String f : List.of(TaskTokenizer.TOKENIZER_JSON, TaskTokenizer.TOKENIZER_CONFIG)) {
            assertEquals(Files.readString(golden().resolve(f)), Files.readString(tmp.resolve(f)), f);
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
