package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.llama.generate.GenerationConfig;
import dev.mor4j.llama.generate.Generator;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.MetricsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mor finetune --method full}: every base weight trained, the result a model that {@code mor generate} runs. */
class FullFinetuneCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void fullFineTuningWritesAModelThatGenerateRunsAndResumes(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--method", "full", "--out", run.toString(),
                "--max-steps", "2", "--lr", "1e-3", "--save-steps", "1", "--max-len", "64");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("trainable params: 2,071,200 || all params: 2,071,200 || trainable%: 100.0000"),
                r.err());
        assertTrue(r.err().contains("memory plan: weights as loaded"), r.err());
        assertTrue(r.err().contains("router.png: not drawn, full has no router"), r.err());
        Path model = run.resolve("final");
        assertTrue(r.out().contains("model: " + model.toAbsolutePath()), r.out());
        assertFalse(Files.exists(run.resolve(AdapterFiles.WEIGHTS)), "no adapter");
        assertTrue(Files.isRegularFile(model.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(model.resolve("tokenizer.json")), "the tokenizer used comes with the model");
        assertTrue(Files.isRegularFile(model.resolve("tokenizer_config.json")), "with its special tokens");
        assertTrue(Files.isRegularFile(run.resolve("checkpoint-2").resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(run.resolve("loss.png")));
        assertEquals(2, MetricsFile.read(run.resolve("metrics.jsonl")).size());
        JsonNode cfg = JSON.readTree(run.resolve("config.json").toFile());
        assertEquals("full", cfg.get("method").asText());
        assertEquals("float32", cfg.get("full_fine_tuning").get("saved_dtype").asText());
        assertEquals(2_071_200, cfg.get("trainable_parameters").asLong());

        // ./mor generate --model RUN/final: the model directory alone, its own tokenizer
        CliTestSupport.Run g = CliTestSupport.run(null, "generate", "--model", model.toString(), "--prompt",
                "Name a colour.", "--max-new-tokens=8");
        assertEquals(0, g.exitCode(), g.err());
        String expected = Generator.withKvCache(LlamaModel.load(model).weights(), null, Tokenizer.load(model))
                .chat("Name a colour.", GenerationConfig.greedy(8)).text();
        assertEquals(expected + System.lineSeparator(), g.out());

        // resuming the finished run for more steps continues from its last checkpoint and replaces final/
        CliTestSupport.Run more = CliTestSupport.run(null, "finetune", "--resume", run.toString(), "--max-steps", "3");
        assertEquals(0, more.exitCode(), more.err());
        assertTrue(more.err().contains("resuming from " + run.resolve("checkpoint-2").toAbsolutePath() + " at step 2"),
                more.err());
        assertEquals(3, MetricsFile.read(run.resolve("metrics.jsonl")).size());
        assertTrue(Files.isRegularFile(model.resolve("model.safetensors")));
    }

    @Test
    void adapterFlagsAreRefused(@TempDir Path tmp) {
        CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--method", "full", "--out",
                tmp.resolve("run").toString(), "--max-steps", "1", "--rank", "16", "--targets", "q_proj");
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().contains("--rank, --targets configure an adapter; --method full trains every base weight"),
                r.err());
        assertFalse(Files.exists(tmp.resolve("run").resolve("config.json")), "refused before anything is written");
    }
}
