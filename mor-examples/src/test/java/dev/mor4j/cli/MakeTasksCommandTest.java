package dev.mor4j.cli;

import dev.mor4j.core.TestData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.tasks.BenchmarkFiles;
import dev.mor4j.tasks.ExactMatchEval;
import dev.mor4j.tasks.TaskTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MakeTasksCommandTest {

    private static final List<String> TASKS = List.of("addition", "reversal", "sorting", "counting", "recall", "dates");

    @TempDir
    Path tmp;

    private final Path model = TestData.root().resolve("models/tiny-llama-f32");

    private static CliTestSupport.Run makeTasks(Path out, int testPerTask, String... extra) {
        List<String> args = new ArrayList<>(List.of("make-tasks", "--out", out.toString(), "--seed", "5",
                "--train-per-task", "20", "--test-per-task", String.valueOf(testPerTask), "--pretrain-per-op", "20",
                "--min-word-count", "5"));
        args.addAll(List.of(extra));
        return CliTestSupport.run(null, args.toArray(String[]::new));
    }

    private static List<Path> outputs(Path dir) {
        List<Path> files = new ArrayList<>();
        BenchmarkFiles.FILES.forEach(f -> files.add(dir.resolve(f)));
        files.add(dir.resolve("tokenizer").resolve(TaskTokenizer.TOKENIZER_JSON));
        files.add(dir.resolve("tokenizer").resolve(TaskTokenizer.TOKENIZER_CONFIG));
        return files;
    }

    @Test
    void writesTheBenchmarkAndItsTokenizerByteIdenticallyAndRefusesToOverwrite() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        CliTestSupport.Run r = makeTasks(a, 2);
        assertEquals(0, r.exitCode(), r.err());
        for (String task : TASKS) {
            assertTrue(r.out().lines().anyMatch(l -> l.matches(task + "\\s+20\\s+2\\s+.*")), task + " in\n" + r.out());
        }
        assertTrue(r.out().lines().anyMatch(l -> l.matches("pretrain\\s+120\\s+-\\s+.*")), r.out());
        assertTrue(r.out().contains("tokenizer: "), r.out());
        assertEquals(0, makeTasks(b, 2).exitCode());
        for (int i = 0; i < outputs(a).size(); i++) {
            assertArrayEquals(Files.readAllBytes(outputs(a).get(i)), Files.readAllBytes(outputs(b).get(i)),
                    outputs(a).get(i).toString());
        }

        byte[] before = Files.readAllBytes(a.resolve(BenchmarkFiles.TRAIN));
        CliTestSupport.Run again = makeTasks(a, 2, "--vocab-size", "600");
        assertEquals(MorCli.EXIT_INPUT, again.exitCode());
        assertTrue(again.err().startsWith("error: " + a.resolve(BenchmarkFiles.TRAIN) + " exists; pass --overwrite"),
                again.err());
        assertArrayEquals(before, Files.readAllBytes(a.resolve(BenchmarkFiles.TRAIN)));
        assertEquals(0, makeTasks(a, 2, "--overwrite").exitCode());
        assertArrayEquals(before, Files.readAllBytes(a.resolve(BenchmarkFiles.TRAIN)));
    }

    @Test
    void theTinyModelIsScoredByMultipleChoiceAndExactMatchWithTheBenchmarkTokenizer() throws Exception {
        Path dir = tmp.resolve("bench");
        assertEquals(0, makeTasks(dir, 1).exitCode());
        Path results = tmp.resolve("results.json");
        Path predictions = tmp.resolve("predictions.jsonl");
        CliTestSupport.Run r = CliTestSupport.run(null, "eval", "--model", model.toString(), "--tokenizer",
                dir.resolve("tokenizer").toString(), "--tasks", dir.resolve(BenchmarkFiles.TEST_MC).toString(),
                "--generate", dir.resolve(BenchmarkFiles.TEST_GEN).toString(), "--out", results.toString(),
                "--max-new-tokens", "3", "--predictions", predictions.toString());
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.out().lines().toList();
        int mc = lines.indexOf(lines.stream().filter(l -> l.matches("task\\s+n\\s+acc\\s+acc_norm")).findFirst()
                .orElseThrow());
        int em = lines.indexOf(lines.stream().filter(l -> l.matches("task\\s+n\\s+exact_match")).findFirst()
                .orElseThrow());
        for (int k = 0; k < TASKS.size(); k++) {
            assertTrue(lines.get(mc + 1 + k).matches(TASKS.get(k) + "\\s+1\\s+\\d\\.\\d{4}\\s+\\d\\.\\d{4}"),
                    lines.get(mc + 1 + k));
            assertTrue(lines.get(em + 1 + k).matches(TASKS.get(k) + "\\s+1\\s+\\d\\.\\d{4}"), lines.get(em + 1 + k));
        }
        assertTrue(lines.get(mc + 7).matches("all\\s+6\\s+.*"), lines.get(mc + 7));
        assertTrue(lines.get(em + 7).matches("all\\s+6\\s+\\d\\.\\d{4}"), lines.get(em + 7));

        ObjectMapper json = new ObjectMapper();
        JsonNode gen = json.readTree(results.toFile()).get("generate");
        List<String> rows = Files.readAllLines(predictions);
        assertEquals(6, rows.size());
        int correct = 0;
        for (String row : rows) {
            JsonNode p = json.readTree(row);
            boolean right = ExactMatchEval.matches(p.get("generated").asText(), p.get("answer").asText());
            assertEquals(right, p.get("correct").asBoolean(), row);
            correct += right ? 1 : 0;
        }
        assertEquals(correct, gen.get("all").get("correct").asInt());
        assertEquals(6, gen.get("all").get("n").asInt());
        assertEquals(correct / 6.0, gen.get("all").get("exact_match").asDouble(), 1e-12);
        for (String task : TASKS) {
            assertEquals(1, gen.get("tasks").get(task).get("n").asInt(), task);
        }
    }

    @Test
    void generationOptionsNeedGenerate() {
        Path tasks = TestData.root().resolve("eval/sample_tasks.jsonl");
        CliTestSupport.Run r = CliTestSupport.run(null, "eval", "--model", model.toString(), "--tokenizer",
                TestData.root().resolve("tokenizers/sp-bpe-32k").toString(), "--tasks", tasks.toString(),
                "--predictions", tmp.resolve("p.jsonl").toString());
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().startsWith("error: --predictions goes with --generate"), r.err());
    }
}
