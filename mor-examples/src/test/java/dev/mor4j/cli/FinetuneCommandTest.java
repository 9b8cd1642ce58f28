package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.train.CheckpointStore;
import dev.mor4j.llama.train.MetricsFile;
import dev.mor4j.llama.train.RouterStats;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FinetuneCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BAD = TestData.root().resolve("tulu/tulu_v2_bad.jsonl").toString();

    private static List<JsonNode> metrics(Path run) {
        return MetricsFile.read(run.resolve("metrics.jsonl"));
    }

    private static void assertPng(Path png, int minWidth, int minHeight) throws Exception {
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " is not a readable image");
        assertTrue(img.getWidth() >= minWidth && img.getHeight() >= minHeight,
                png + " is " + img.getWidth() + "x" + img.getHeight());
    }

    @Test
    void withDefaultsItWritesEveryFileAndCanBeResumed(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--out", run.toString(), "--max-steps", "3");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("trainable params: 11,904 || all params: 2,083,104 || trainable%: 0.5715"), r.err());
        assertTrue(r.err().contains("data: 16 conversations from 16 lines, 0 bad lines skipped"), r.err());
        assertTrue(r.err().contains("step 3/3  loss "), r.err());
        assertTrue(r.out().contains("adapter: " + run.toAbsolutePath()), r.out());
        assertTrue(Pattern.compile("tokens: [0-9,]+ real of [0-9,]+ computed \\([0-9.]+ % padding\\); 12 examples in"
                + " [0-9]+ rows, packed").matcher(r.out()).find(), r.out());
        assertTrue(r.err().contains("micro-batches: 4 examples each, packed into rows of at most"), r.err());
        // only the command's own lines: none of ND4J's internal warnings (SLF4J) or SameDiff's prints (stdout)
        for (String nd4j : List.of("No fields found", "Added differentiated op")) {
            assertFalse(r.out().contains(nd4j), "standard output has '" + nd4j + "': " + r.out());
            assertFalse(r.err().contains(nd4j), "standard error has '" + nd4j + "': " + r.err());
        }

        JsonNode adapter = JSON.readTree(run.resolve(AdapterFiles.CONFIG).toFile());
        assertEquals("MOR", adapter.get("peft_type").asText());
        assertEquals(8, adapter.get("num_experts").asInt());
        assertTrue(Files.size(run.resolve(AdapterFiles.WEIGHTS)) > 0);
        assertTrue(Files.isRegularFile(run.resolve("checkpoint-3").resolve(AdapterFiles.WEIGHTS)),
                "each checkpoint is also an adapter");
        assertTrue(Files.isRegularFile(run.resolve(RouterStats.FILE)));
        assertEquals(3, metrics(run).size());
        assertPng(run.resolve("loss.png"), 600, 300);
        assertPng(run.resolve("router.png"), 1000, 400);

        JsonNode cfg = JSON.readTree(run.resolve("config.json").toFile());
        JsonNode s = cfg.get("settings");
        assertEquals("mor4j-finetune", cfg.get("run").asText());
        assertEquals("mor", s.get("method").asText());
        assertEquals("softmax", s.get("router").asText());
        assertEquals(8, s.get("experts").asInt());
        assertEquals(8, s.get("rank").asInt());
        assertEquals(32.0, s.get("alpha").asDouble());
        assertEquals(0.05, s.get("dropout").asDouble());
        assertEquals(List.of("gate_proj", "up_proj", "down_proj"), JSON.convertValue(s.get("targets"), List.class));
        assertEquals(4, s.get("batch").asInt());
        assertEquals(256, s.get("max_len").asInt());
        assertEquals(0.01, s.get("lr").asDouble());
        assertTrue(s.get("model").asText().endsWith("tiny-llama-f32"));
        assertTrue(s.get("tokenizer").asText().endsWith("sp-bpe-32k"), "the bundled model has no tokenizer");
        assertTrue(s.get("data").asText().endsWith("tulu_v2_sample.jsonl"));
        assertEquals(3, cfg.get("train").get("max_steps").asInt());
        assertEquals(16, cfg.get("examples").asInt());
        assertEquals("on", s.get("packing").asText());
        assertEquals("expanded", s.get("form").asText(), "a MoR run records its form, the default when not given");

        // a second run into the same directory must say how to go on
        CliTestSupport.Run again = CliTestSupport.run(null, "finetune", "--out", run.toString(), "--max-steps", "3");
        assertEquals(MorCli.EXIT_INPUT, again.exitCode());
        assertTrue(again.err().contains("holds a previous run; continue it with --resume"), again.err());

        // resuming takes the run's settings and continues its metrics; a run from before --packing stays padded,
        // one from before --form computed (and goes on computing) the expanded form
        com.fasterxml.jackson.databind.node.ObjectNode old = (com.fasterxml.jackson.databind.node.ObjectNode) cfg;
        ((com.fasterxml.jackson.databind.node.ObjectNode) old.get("settings")).remove(List.of("packing", "form"));
        Files.writeString(run.resolve("config.json"), JSON.writeValueAsString(old));
        CliTestSupport.Run resumed = CliTestSupport.run(null, "finetune", "--resume", run.toString(), "--max-steps", "4");
        assertEquals(0, resumed.exitCode(), resumed.err());
        assertTrue(resumed.err().contains("resuming from " + run.resolve("checkpoint-3").toAbsolutePath()), resumed.err());
        assertTrue(resumed.out().contains("4 examples in 4 rows, padded"), resumed.out());
        List<JsonNode> m = metrics(run);
        assertEquals(4, m.size());
        for (int i = 0; i < 4; i++) {
            assertEquals(i + 1, m.get(i).get("step").asInt());
        }
        JsonNode cfg2 = JSON.readTree(run.resolve("config.json").toFile());
        assertEquals(4, cfg2.get("train").get("max_steps").asInt());
        assertEquals(0.01, cfg2.get("settings").get("lr").asDouble());
        assertTrue(cfg2.get("resumed_from").asText().endsWith("checkpoint-3"));
        assertEquals("off", cfg2.get("settings").get("packing").asText());
        assertEquals("expanded", cfg2.get("settings").get("form").asText());
        assertTrue(Files.isDirectory(run.resolve("checkpoint-4")));

        // --overwrite replaces the previous run's files only
        Files.writeString(run.resolve("notes.txt"), "mine");
        CliTestSupport.Run replaced = CliTestSupport.run(null, "finetune", "--out", run.toString(), "--max-steps", "1",
                "--overwrite");
        assertEquals(0, replaced.exitCode(), replaced.err());
        assertEquals(1, metrics(run).size());
        assertEquals(List.of(run.resolve("checkpoint-1")), new CheckpointStore(run, 0).checkpoints());
        assertEquals("mine", Files.readString(run.resolve("notes.txt")));
    }

    @Test
    void badLinesAreReportedOnceEachAndStrictStopsWithExitCode2(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        Files.createDirectories(run);
        Files.writeString(run.resolve("notes.txt"), "mine");
        CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--data", BAD, "--out", run.toString(),
                "--max-steps", "1", "--overwrite");
        assertEquals(0, r.exitCode(), r.err());
        for (int line = 2; line <= 9; line++) {
            Matcher m = Pattern.compile(Pattern.quote("skipping " + BAD + ":" + line + ": ")).matcher(r.err());
            int n = 0;
            while (m.find()) {
                n++;
            }
            assertEquals(1, n, "line " + line + " reported once:\n" + r.err());
        }
        assertFalse(r.err().contains(BAD + ":1:"), "line 1 is good");
        assertFalse(r.err().contains(BAD + ":10:"), "line 10 is good");
        assertTrue(r.err().contains("data: 2 conversations from 10 lines, 8 bad lines skipped; 2 examples kept"), r.err());
        assertEquals("mine", Files.readString(run.resolve("notes.txt")), "--overwrite keeps other files");
        assertTrue(Files.isRegularFile(run.resolve(AdapterFiles.WEIGHTS)));

        Path strictOut = tmp.resolve("strict");
        CliTestSupport.Run strict = CliTestSupport.run(null, "finetune", "--data", BAD, "--strict", "--out",
                strictOut.toString());
        assertEquals(MorCli.EXIT_INPUT, strict.exitCode());
        assertTrue(strict.err().startsWith("error: " + BAD + ":2: "), strict.err());
        assertFalse(strict.err().contains("Exception"), "no stack trace without --verbose");
        assertFalse(Files.exists(strictOut), "nothing is written");
    }

    @Test
    void dataWithoutAUsableConversationStopsBeforeTraining(@TempDir Path tmp) throws Exception {
        List<String> lines = Files.readAllLines(Path.of(BAD));
        Path allBad = tmp.resolve("all_bad.jsonl");
        Files.write(allBad, lines.subList(1, 9));
        Path empty = Files.createFile(tmp.resolve("empty.jsonl"));
        for (Path data : List.of(allBad, empty)) {
            Path out = tmp.resolve("out-" + data.getFileName());
            CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--data", data.toString(), "--out", out.toString());
            assertEquals(MorCli.EXIT_INPUT, r.exitCode(), r.err());
            assertTrue(r.err().contains("error: " + data + ": nothing to train on"), r.err());
            assertFalse(r.err().contains("trainable params"), "stopped before the model was set up");
            assertFalse(Files.exists(out));
        }
    }

    @Test
    void usersFilesAndModelsAreNeverOverwrittenByAccident(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("mine");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("notes.txt"), "mine");
        CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--out", dir.toString());
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().contains("is not empty and holds no previous run"), r.err());
        assertEquals(List.of(dir.resolve("notes.txt")), Files.list(dir).toList());

        String model = TestData.root().resolve("models/tiny-llama-f32").toString();
        CliTestSupport.Run intoModel = CliTestSupport.run(null, "finetune", "--out", model, "--overwrite");
        assertEquals(MorCli.EXIT_INPUT, intoModel.exitCode());
        assertTrue(intoModel.err().contains("holds a config.json that mor finetune did not write"), intoModel.err());
    }

    @Test
    void badFlagsAreClearErrors(@TempDir Path tmp) {
        String out = tmp.resolve("x").toString();
        CliTestSupport.Run method = CliTestSupport.run(null, "finetune", "--method", "qlora", "--out", out);
        assertEquals(MorCli.EXIT_INPUT, method.exitCode());
        assertTrue(method.err().contains("--method is 'qlora'; expected one of mor, lora, dora, moelora, more"), method.err());
        CliTestSupport.Run both = CliTestSupport.run(null, "finetune", "--epochs", "1", "--max-steps", "3", "--out", out);
        assertEquals(MorCli.EXIT_INPUT, both.exitCode());
        assertTrue(both.err().contains("--epochs and --max-steps both given"), both.err());
        CliTestSupport.Run packing = CliTestSupport.run(null, "finetune", "--packing", "yes", "--out", out);
        assertEquals(MorCli.EXIT_INPUT, packing.exitCode());
        assertTrue(packing.err().contains("--packing is 'yes'; expected one of on, off"), packing.err());
        CliTestSupport.Run resume = CliTestSupport.run(null, "finetune", "--resume", tmp.toString());
        assertEquals(MorCli.EXIT_INPUT, resume.exitCode());
        assertTrue(resume.err().contains("not the output of mor finetune"), resume.err());
        CliTestSupport.Run form = CliTestSupport.run(null, "finetune", "--form", "fused", "--out", out);
        assertEquals(MorCli.EXIT_INPUT, form.exitCode());
        assertTrue(form.err().contains("--form is 'fused'; expected one of expanded, stacked, loop"), form.err());
        CliTestSupport.Run loraForm = CliTestSupport.run(null, "finetune", "--method", "lora", "--form", "loop",
                "--out", out);
        assertEquals(MorCli.EXIT_INPUT, loraForm.exitCode());
        assertTrue(loraForm.err().contains("--form is for --method mor only (the method is 'lora')"), loraForm.err());
    }

    @Test
    void theMorFormIsRecordedAndKeptOnResume(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--out", run.toString(), "--max-steps", "2",
                "--form", "stacked");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("MoR form: stacked"), r.err());
        assertEquals("stacked", JSON.readTree(run.resolve("config.json").toFile()).get("settings").get("form").asText());
        JsonNode adapter = JSON.readTree(run.resolve(AdapterFiles.CONFIG).toFile());
        assertFalse(adapter.toString().contains("stacked"), "the form is not part of the adapter: " + adapter);

        CliTestSupport.Run resumed = CliTestSupport.run(null, "finetune", "--resume", run.toString(), "--max-steps", "3");
        assertEquals(0, resumed.exitCode(), resumed.err());
        assertTrue(resumed.err().contains("MoR form: stacked"), resumed.err());
        assertEquals(3, metrics(run).size());

        CliTestSupport.Run changed = CliTestSupport.run(null, "finetune", "--resume", run.toString(), "--max-steps", "4",
                "--form", "loop");
        assertEquals(0, changed.exitCode(), changed.err());
        assertTrue(changed.err().contains("MoR form: loop"), changed.err());
        assertEquals("loop", JSON.readTree(run.resolve("config.json").toFile()).get("settings").get("form").asText());
    }

    @Test
    void sparkWithoutTheSparkModuleOnTheClassPathIsOneLine(@TempDir Path tmp) {
        CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--out", tmp.resolve("run").toString(), "--spark",
                "local[2]", "--max-steps", "1");
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertEquals("error: no 'spark' training backend on the class path (found none); it comes with module"
                + " mor-spark, which ./mor puts on the class path when asked for it\n", r.err());
    }
}
