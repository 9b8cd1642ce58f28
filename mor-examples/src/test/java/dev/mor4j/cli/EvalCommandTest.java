package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.eval.ContinuationEncoder;
import dev.mor4j.llama.eval.EvalFiles;
import dev.mor4j.llama.eval.MultipleChoiceEval;
import dev.mor4j.llama.eval.TaskResult;
import dev.mor4j.llama.eval.TokenScorer;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {

    @TempDir
    Path tmp;

    private final Path model = TestData.root().resolve("models/tiny-llama-f32");
    private final Path tokenizer = TestData.root().resolve("tokenizers/sp-bpe-32k");
    private final Path tasks = TestData.root().resolve("eval/sample_tasks.jsonl");
    private final Path texts = TestData.root().resolve("eval/sample_texts.jsonl");

    @Test
    void printsATablePerTaskAndWritesJson() throws Exception {
        Path out = tmp.resolve("results.json");
        CliTestSupport.Run r = CliTestSupport.run(null, "eval", "--model", model.toString(), "--tokenizer",
                tokenizer.toString(), "--tasks", tasks.toString(), "--texts", texts.toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        String[] lines = r.out().split("\\R");
        assertTrue(lines[0].matches("task\\s+n\\s+acc\\s+acc_norm"), lines[0]);
        assertTrue(lines[1].matches("capitals\\s+4\\s+\\d\\.\\d{4}\\s+\\d\\.\\d{4}"), lines[1]);
        assertTrue(lines[2].startsWith("arithmetic"), lines[2]);
        assertTrue(lines[3].startsWith("opposites"), lines[3]);
        assertTrue(lines[4].matches("all\\s+12\\s+.*"), lines[4]);
        assertTrue(lines[5].startsWith("perplexity: 4 texts, 64 tokens"), lines[5]);

        LlamaModel m = LlamaModel.load(model);
        MultipleChoiceEval.Report expected = new MultipleChoiceEval(
                new ContinuationEncoder(Tokenizer.load(tokenizer), true),
                new TokenScorer(LlamaGraph.base(m.weights(), GraphKind.INFERENCE), 4)).run(EvalFiles.readTasks(tasks));
        JsonNode json = new ObjectMapper().readTree(out.toFile());
        for (TaskResult t : expected.tasks()) {
            JsonNode n = json.get("tasks").get(t.task());
            assertEquals(t.n(), n.get("n").asInt());
            assertEquals(t.acc(), n.get("acc").asDouble(), 1e-12, t.task());
            assertEquals(t.accNorm(), n.get("acc_norm").asDouble(), 1e-12, t.task());
        }
        assertEquals(expected.overall().acc(), json.get("all").get("acc").asDouble(), 1e-12);
        assertEquals(64, json.get("perplexity").get("tokens").asInt());
        assertTrue(json.get("perplexity").get("perplexity").asDouble() > 1);
    }

    @Test
    void aBadRowNamesFileAndLine() throws Exception {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, Files.readAllLines(tasks).get(0) + "\n"
                + "{\"task\": \"x\", \"context\": \"c\", \"choices\": [\" a\", \" b\"], \"label\": 5}\n");
        CliTestSupport.Run r = CliTestSupport.run(null, "eval", "--model", model.toString(), "--tokenizer",
                tokenizer.toString(), "--tasks", bad.toString());
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().startsWith("error: " + bad + ":2: \"label\" 5 is not a choice index"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void needsSomethingToEvaluateAndATokenizer() {
        CliTestSupport.Run none = CliTestSupport.run(null, "eval", "--model", model.toString(), "--tokenizer",
                tokenizer.toString());
        assertEquals(MorCli.EXIT_INPUT, none.exitCode());
        assertTrue(none.err().contains("--tasks") && none.err().contains("--texts"), none.err());
        CliTestSupport.Run noTok = CliTestSupport.run(null, "eval", "--model", model.toString(), "--tasks", tasks.toString());
        assertEquals(MorCli.EXIT_INPUT, noTok.exitCode());
        assertTrue(noTok.err().contains("pass --tokenizer"), noTok.err());
    }

    @Test
    void refusesToOverwriteAnInput() throws Exception {
        Path copy = tmp.resolve("tasks.jsonl");
        Files.copy(tasks, copy);
        CliTestSupport.Run r = CliTestSupport.run(null, "eval", "--model", model.toString(), "--tokenizer",
                tokenizer.toString(), "--tasks", copy.toString(), "--out", copy.toString());
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertEquals(Files.readString(tasks), Files.readString(copy));
    }
}
