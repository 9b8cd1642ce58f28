package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.TrainableBase;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.MetricsFile;
import dev.mor4j.tasks.BenchmarkFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code mor make-base}: a tiny base model pre-trained on a tiny {@code make-tasks} corpus loads as a model with the
 * benchmark's tokenizer, fine-tunes, is written byte-identically from the same inputs, and never replaces what it
 * should not.
 */
class MakeBaseCommandTest {

    private static final long SEED = 3;

    @TempDir
    static Path shared;

    private static Path tasks;

    @TempDir
    Path tmp;

    @BeforeAll
    static void makeTasks() {
        tasks = shared.resolve("tasks");
        CliTestSupport.Run r = CliTestSupport.run(null, "make-tasks", "--out", tasks.toString(), "--seed", "5",
                "--train-per-task", "10", "--test-per-task", "2", "--pretrain-per-op", "10", "--min-word-count", "5");
        assertEquals(0, r.exitCode(), r.err());
    }

    /** make-base of the shared tasks with a 1-layer, hidden-32 config, seed {@value SEED} and 3 steps. */
    private static CliTestSupport.Run makeBase(Path out, String... extra) {
        return makeBase(tasks, out, SEED, 3, extra);
    }

    /** make-base with a 1-layer, hidden-32 config. */
    private static CliTestSupport.Run makeBase(Path tasksDir, Path out, long seed, int steps, String... extra) {
        List<String> args = new ArrayList<>(List.of("make-base", "--tasks", tasksDir.toString(), "--out",
                out.toString(), "--seed", String.valueOf(seed), "--layers", "1", "--hidden", "32", "--intermediate",
                "64", "--heads", "2", "--steps", String.valueOf(steps), "--batch", "8", "--lr", "1e-2"));
        args.addAll(List.of(extra));
        return CliTestSupport.run(null, args.toArray(String[]::new));
    }

    @Test
    void writesAModelThatLoadsFineTunesAndIsByteIdenticalFromTheSameInputs() throws Exception {
        Path a = tmp.resolve("a");
        CliTestSupport.Run r = makeBase(a);
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("base model: " + a.toAbsolutePath()), r.out());
        assertTrue(r.out().contains("config: 1 layers, hidden 32, intermediate 64, 2 heads of 16"), r.out());

        Tokenizer source = Tokenizer.load(tasks.resolve(MakeTasksCommand.TOKENIZER_DIR));
        Tokenizer tok = Tokenizer.load(a);
        assertEquals(source.vocabSize(), tok.vocabSize());
        assertEquals(source.bosId(), tok.bosId());
        assertEquals(source.eosId(), tok.eosId());
        LlamaModel model = LlamaModel.load(a);
        LlamaConfig c = model.config();
        assertEquals(List.of(1, 32, 64, 2, 2, 128, source.vocabSize()), List.of(c.numHiddenLayers(), c.hiddenSize(),
                c.intermediateSize(), c.numAttentionHeads(), c.numKeyValueHeads(), c.maxPositionEmbeddings(),
                c.vocabSize()));
        assertEquals(Integer.valueOf(source.bosId().getAsInt()), c.bosTokenId());
        assertEquals(List.of(source.eosId().getAsInt()), c.eosTokenIds());

        // every weight moved away from the random initialisation of the same seed
        Map<String, INDArray> trained = TrainableBase.of(model.weights()).weights();
        Map<String, INDArray> init = TrainableBase.of(LlamaModel.random(c, SEED).weights()).weights();
        assertEquals(init.keySet(), trained.keySet());
        init.forEach((key, w) -> assertNotEquals(w, trained.get(key), key + " was not trained"));

        Path record = a.resolve(BaseModelDirectory.PRETRAINING);
        List<JsonNode> steps = MetricsFile.read(record.resolve("metrics.jsonl"));
        assertEquals(3, steps.size());
        assertTrue(steps.stream().allMatch(m -> m.path("loss").isNumber()), steps.toString());
        JsonNode made = new ObjectMapper().readTree(record.resolve(BaseModelDirectory.RECORD).toFile());
        assertEquals(BaseModelDirectory.KIND, made.get("run").asText());
        assertEquals(32, made.get("settings").get("hidden").asInt());
        assertEquals(3, made.get("steps").asInt());
        assertTrue(Files.isRegularFile(record.resolve(RunDirectory.LOSS_PNG)));

        // the same inputs again: the same bytes
        Path b = tmp.resolve("b");
        assertEquals(0, makeBase(b).exitCode());
        for (String f : List.of("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json")) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        assertFalse(Files.exists(tmp.resolve(".a.make-base.tmp")), "the staging directory is gone");

        // fine-tuning on it: the tokenizer comes from the model directory
        Path run = tmp.resolve("run");
        CliTestSupport.Run ft = CliTestSupport.run(null, "finetune", "--model", a.toString(), "--data",
                tasks.resolve(BenchmarkFiles.TRAIN).toString(), "--method", "mor", "--experts", "2", "--rank", "2",
                "--batch", "4", "--max-len", "64", "--max-steps", "2", "--out", run.toString());
        assertEquals(0, ft.exitCode(), ft.err());
        assertTrue(Files.isRegularFile(run.resolve(AdapterFiles.WEIGHTS)));
        assertEquals(2, MetricsFile.read(run.resolve("metrics.jsonl")).size());
    }

    @Test
    void replacesOnlyItsOwnModelAndOnlyWithOverwrite() throws Exception {
        Path base = tmp.resolve("base");
        assertEquals(0, makeBase(tasks, base, SEED, 1).exitCode());
        byte[] before = Files.readAllBytes(base.resolve("model.safetensors"));

        CliTestSupport.Run again = makeBase(tasks, base, 4, 1);
        assertEquals(MorCli.EXIT_INPUT, again.exitCode());
        assertTrue(again.err().startsWith("error: " + base + ": holds a model; pass --overwrite"), again.err());
        assertArrayEquals(before, Files.readAllBytes(base.resolve("model.safetensors")));

        Path stray = base.resolve(BaseModelDirectory.PRETRAINING).resolve("stray.txt");
        Files.writeString(stray, "left by a previous run");
        CliTestSupport.Run replaced = makeBase(tasks, base, 4, 1, "--overwrite");
        assertEquals(0, replaced.exitCode(), replaced.err());
        assertFalse(java.util.Arrays.equals(before, Files.readAllBytes(base.resolve("model.safetensors"))),
                "another seed, another model");
        assertFalse(Files.exists(stray), "the whole previous model directory was replaced");
        LlamaModel.load(base);

        // a directory holding anything else is never replaced, nor an input of make-base
        Path mine = tmp.resolve("mine");
        Files.createDirectories(mine);
        Files.writeString(mine.resolve("notes.txt"), "mine");
        Files.writeString(mine.resolve("config.json"), "{}");
        CliTestSupport.Run refused = makeBase(mine, "--overwrite");
        assertEquals(MorCli.EXIT_INPUT, refused.exitCode());
        assertTrue(refused.err().startsWith("error: " + mine + ": holds files make-base does not write (notes.txt)"),
                refused.err());
        assertEquals("mine", Files.readString(mine.resolve("notes.txt")));
        assertEquals("{}", Files.readString(mine.resolve("config.json")));
        assertFalse(Files.exists(tmp.resolve(".mine.make-base.tmp")));

        Path tokenizer = tasks.resolve(MakeTasksCommand.TOKENIZER_DIR);
        byte[] tokenizerBytes = Files.readAllBytes(tokenizer.resolve("tokenizer.json"));
        CliTestSupport.Run input = makeBase(tokenizer, "--overwrite");
        assertEquals(MorCli.EXIT_INPUT, input.exitCode());
        assertTrue(input.err().startsWith("error: " + tokenizer + ": is an input of make-base"), input.err());
        assertArrayEquals(tokenizerBytes, Files.readAllBytes(tokenizer.resolve("tokenizer.json")));
    }

    @Test
    void refusesADirectoryThatIsNotAMakeTasksOutput() {
        CliTestSupport.Run r = makeBase(tmp, tmp.resolve("out"), SEED, 1);
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().startsWith("error: " + tmp.resolve(BenchmarkFiles.PRETRAIN) + ": not found; --tasks"
                + " expects the output of ./mor make-tasks"), r.err());
        assertFalse(Files.exists(tmp.resolve("out")));
    }
}
