package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.llama.train.MetricsFile;
import dev.mor4j.llama.train.RankSelection;
import dev.mor4j.llama.train.RouterStats;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mor finetune --method more}: tasks from the data's datasets, the rank table, ranks.png, resume. */
class MoreFinetuneCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The bundled sample's datasets, sorted: the default tasks. */
    private static final List<String> SAMPLE_TASKS = List.of("code_alpaca", "flan_v2", "gpt4_alpaca", "hard_coded",
            "lima", "oasst1", "open_orca", "science", "sharegpt", "wizardlm");

    private static BufferedImage png(Path file) throws Exception {
        BufferedImage img = ImageIO.read(file.toFile());
        assertNotNull(img, file + " is not a readable image");
        return img;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void theDefaultMoreRunPrintsTheRankTableWritesRanksPngAndResumes(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--method", "more", "--out", run.toString(),
                "--max-steps", "2");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("tasks (the data's datasets, sorted; examples each): code_alpaca 2, flan_v2 3,"
                + " gpt4_alpaca 2, hard_coded 1, lima 1, oasst1 2, open_orca 1, science 2, sharegpt 1, wizardlm 1"),
                r.err());
        assertFalse(r.err().contains("No fields found for property"), "SameDiff's property warnings are silenced");

        JsonNode adapter = JSON.readTree(run.resolve(AdapterFiles.CONFIG).toFile());
        assertEquals("MORE", adapter.get("peft_type").asText());
        assertEquals(8, adapter.get("r").asInt());
        assertEquals(32.0, adapter.get("lora_alpha").asDouble());
        assertEquals(0.05, adapter.get("lora_dropout").asDouble());
        assertEquals(List.of("gate_proj", "up_proj", "down_proj"), strings(adapter.get("target_modules")));
        assertEquals(SAMPLE_TASKS, strings(adapter.get("tasks")));
        assertEquals("[1,2,3,4,5,6,7,8]", adapter.get("rank_experts").toString(), "the default 1..r, written out");
        assertEquals(0.1, adapter.get("task_loss_weight").asDouble());
        assertEquals(0.05, adapter.get("task_temperature").asDouble());

        RankSelection saved = RankSelection.read(run.resolve(RouterStats.FILE));
        assertEquals(SAMPLE_TASKS, saved.tasks());
        assertEquals(6, saved.modules().size(), "2 layers x gate/up/down");
        assertEquals("[1, 2, 3, 4, 5, 6, 7, 8]", Arrays.toString(saved.rankExperts()));
        assertTrue(r.out().contains(saved.table()), "the printed table is the saved selection's:\n" + r.out());
        assertTrue(r.out().contains("plots: " + run.resolve("loss.png") + ", " + run.resolve("ranks.png")), r.out());
        BufferedImage ranks = png(run.resolve("ranks.png"));
        assertTrue(ranks.getWidth() >= 600 && ranks.getHeight() >= 300, ranks.getWidth() + "x" + ranks.getHeight());
        assertFalse(Files.exists(run.resolve("router.png")), "MoRE has no per-token router");

        JsonNode cfg = JSON.readTree(run.resolve("config.json").toFile());
        assertEquals("more", cfg.get("method").asText());
        assertEquals(SAMPLE_TASKS, strings(cfg.get("tasks")));
        assertEquals(3, cfg.get("examples_per_task").get("flan_v2").asInt());
        assertEquals("MORE", cfg.get("adapter").get("peft_type").asText());

        CliTestSupport.Run resumed = CliTestSupport.run(null, "finetune", "--resume", run.toString(), "--max-steps", "3");
        assertEquals(0, resumed.exitCode(), resumed.err());
        assertTrue(resumed.err().contains("resuming from " + run.resolve("checkpoint-2").toAbsolutePath()),
                resumed.err());
        assertEquals(3, MetricsFile.read(run.resolve("metrics.jsonl")).size());
        assertEquals(SAMPLE_TASKS, AdapterFiles.load(run.resolve("checkpoint-3")).config().taskNames());
        RankSelection after = RankSelection.read(run.resolve(RouterStats.FILE));
        assertTrue(resumed.out().contains(after.table()), resumed.out());
        assertEquals("more", JSON.readTree(run.resolve("config.json").toFile()).get("method").asText());
    }

    @Test
    void moreFlagsAndGivenTasksReachTheAdapterInTheirOrder(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        List<String> reversed = new ArrayList<>(SAMPLE_TASKS);
        Collections.reverse(reversed);
        CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--method", "more", "--out", run.toString(),
                "--max-steps", "1", "--rank", "4", "--alpha", "16", "--dropout", "0", "--targets", "up_proj,down_proj",
                "--rank-experts", "2,4", "--task-loss-weight", "0.2", "--task-temperature", "0.1",
                "--tasks", String.join(",", reversed) + ",unused");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("tasks (--tasks; examples each): wizardlm 1, sharegpt 1, science 2"), r.err());
        assertTrue(r.err().contains("code_alpaca 2, unused 0"), r.err());

        AdapterFiles.Loaded adapter = AdapterFiles.load(run);
        List<String> tasks = new ArrayList<>(reversed);
        tasks.add("unused");
        assertEquals(tasks, adapter.config().taskNames());
        assertEquals(List.of(2, 4), adapter.config().rankExperts());
        assertEquals(4, adapter.config().r());
        assertEquals(16.0, adapter.config().loraAlpha());
        assertEquals(0.0, adapter.config().loraDropout());
        assertEquals(0.2, adapter.config().taskLossWeight());
        assertEquals(0.1, adapter.config().taskTemperature());
        assertEquals(List.of("up_proj", "down_proj"), adapter.config().targetModules());

        RankSelection saved = RankSelection.read(run.resolve(RouterStats.FILE));
        assertEquals(tasks, saved.tasks());
        assertEquals(4, saved.modules().size());
        for (int[] row : saved.chosenRanks()) {
            for (int rank : row) {
                assertTrue(rank == 2 || rank == 4, "a chosen rank is a rank expert: " + rank);
            }
        }
        assertTrue(r.out().contains(saved.table()), r.out());
        png(run.resolve("ranks.png"));
    }

    @Test
    void aConversationOutsideTheTasksStopsTheRunNamingItsLine(@TempDir Path tmp) throws Exception {
        String answer = "\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"r\"}]";
        Path data = tmp.resolve("data.jsonl");
        Files.write(data, List.of("{\"dataset\":\"a\",\"id\":\"1\"," + answer + "}", "not json",
                "{\"dataset\":\"b\",\"id\":\"2\"," + answer + "}", "{\"dataset\":\"x\",\"id\":\"3\"," + answer + "}"));
        Path out = tmp.resolve("out");
        CliTestSupport.Run r = CliTestSupport.run(null, "finetune", "--method", "more", "--tasks", "a,b", "--data",
                data.toString(), "--out", out.toString());
        assertEquals(MorCli.EXIT_INPUT, r.exitCode(), r.err());
        assertTrue(r.err().contains("error: " + data + ":4: dataset 'x' is not one of the tasks [a, b] (--tasks)"),
                r.err());
        assertFalse(r.err().contains("trainable params"), "stopped before the model was set up");
        assertFalse(Files.exists(out));

        Path noDataset = tmp.resolve("no_dataset.jsonl");
        Files.write(noDataset, List.of("{\"dataset\":\"a\",\"id\":\"1\"," + answer + "}", "{\"id\":\"2\"," + answer + "}"));
        CliTestSupport.Run missing = CliTestSupport.run(null, "finetune", "--method", "more", "--data",
                noDataset.toString(), "--out", out.toString());
        assertEquals(MorCli.EXIT_INPUT, missing.exitCode(), missing.err());
        assertTrue(missing.err().contains("error: " + noDataset + ":2: conversation '2' has no \"dataset\""),
                missing.err());
    }

    @Test
    void badMoreFlagsAreClearErrors(@TempDir Path tmp) {
        String out = tmp.resolve("x").toString();
        String[][] cases = {
            {"--tasks is for --method more only (the method is 'mor')", "--tasks", "a,b"},
            {"--rank-experts is for --method more only (the method is 'lora')", "--method", "lora", "--rank-experts",
                "1,2"},
            {"--rank-experts is [1, 16]; expected ranks that increase strictly within 1..8 (--rank)", "--method",
                "more", "--rank-experts", "1,16"},
            {"--rank-experts is [4, 2]; expected ranks that increase strictly", "--method", "more", "--rank-experts",
                "4,2"},
            {"--task-temperature is 0.0; expected a number > 0", "--method", "more", "--task-temperature", "0"},
            {"--task-loss-weight is -1.0; expected a number ≥ 0", "--method", "more", "--task-loss-weight", "-1"},
            {"--tasks [a, b, a]: 'a' is listed twice", "--method", "more", "--tasks", "a,b,a"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("finetune", "--out", out));
            args.addAll(List.of(c).subList(1, c.length));
            CliTestSupport.Run r = CliTestSupport.run(null, args.toArray(String[]::new));
            assertEquals(MorCli.EXIT_INPUT, r.exitCode(), args + ": " + r.err());
            assertTrue(r.err().contains(c[0]), args + ": " + r.err());
        }
    }

    @Test
    void ranksPngHasARowPerTaskAndGrowsWithTheModules(@TempDir Path tmp) throws Exception {
        List<String> few = List.of("base_model.model.model.layers.0.mlp.up_proj",
                "base_model.model.model.layers.0.mlp.down_proj");
        List<String> many = new ArrayList<>();
        for (int l = 0; l < 32; l++) {
            for (String p : List.of("gate_proj", "up_proj", "down_proj")) {
                many.add("base_model.model.model.layers." + l + ".mlp." + p);
            }
        }
        int[] experts = {1, 2, 4, 8};
        Path small = tmp.resolve("small.png");
        TrainingPlots.ranks(selection(few, List.of("a", "b"), experts), small);
        Path tall = tmp.resolve("tall.png");
        TrainingPlots.ranks(selection(few, List.of("a", "b", "c", "d", "e", "f", "g", "h"), experts), tall);
        Path wide = tmp.resolve("wide.png");
        TrainingPlots.ranks(selection(many, List.of("a", "b"), experts), wide);
        assertTrue(png(tall).getHeight() > png(small).getHeight(), "one row per task");
        assertTrue(png(wide).getWidth() > png(small).getWidth(), "one column per module");
        MorException e = assertThrows(MorException.class,
                () -> TrainingPlots.ranks(selection(List.of(), List.of("a"), experts), tmp.resolve("none.png")));
        assertTrue(e.getMessage().contains("none.png: no rank selection to plot"), e.getMessage());
    }

    /** A selection where task t uses rank expert (t + m) mod K in module m. */
    private static RankSelection selection(List<String> modules, List<String> tasks, int[] experts) {
        int[][] chosen = new int[tasks.size()][modules.size()];
        double[][][] p = new double[tasks.size()][modules.size()][experts.length];
        for (int t = 0; t < tasks.size(); t++) {
            for (int m = 0; m < modules.size(); m++) {
                int k = (t + m) % experts.length;
                chosen[t][m] = experts[k];
                p[t][m][k] = 1;
            }
        }
        return new RankSelection(modules, experts, tasks, chosen, p);
    }
}
