package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import dev.mor4j.paper.PaperMethod;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mor paper --smoke} on the bundled tiny model and a tiny benchmark: one run per method family, the files it
 * writes, resuming, the learning-rate search and the budget refusal.
 */
class PaperCommandTest {

    private static final List<String> TASKS = List.of("addition", "reversal", "sorting", "counting", "recall", "dates");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    private static Path bench;
    private static final Path MODEL = TestData.root().resolve("models/tiny-llama-f32");

    @BeforeAll
    static void makeTasks() {
        bench = tmp.resolve("bench");
        CliTestSupport.Run r = CliTestSupport.run(null, "make-tasks", "--out", bench.toString(), "--seed", "3",
                "--train-per-task", "20", "--test-per-task", "1", "--pretrain-per-op", "10", "--min-word-count", "5");
        assertEquals(0, r.exitCode(), r.err());
    }

    private static CliTestSupport.Run paper(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("paper", "--smoke", "--tasks", bench.toString(), "--base",
                MODEL.toString(), "--out", out.toString()));
        args.addAll(List.of(extra));
        return CliTestSupport.run(null, args.toArray(String[]::new));
    }

    @Test
    void smokeRunsEveryFamilyWritesResultsReportAndPicturesAndAResumeSkipsFinishedRuns() throws Exception {
        Path out = tmp.resolve("smoke");
        CliTestSupport.Run r = paper(out);
        assertEquals(0, r.exitCode(), r.err());
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        JsonNode finals = results.get("final_runs");
        assertEquals(PaperMethod.SMOKE.size(), finals.size());
        assertEquals(0, results.get("search_runs").size(), "a one-value grid needs no search");
        long fullParams = 0;
        long loraParams = 0;
        for (JsonNode run : finals) {
            String method = run.get("method").asText();
            assertEquals(0.01, run.get("lr").asDouble(), method);
            assertEquals(4, run.get("loss").size(), method);
            assertEquals(TASKS, names(run.get("accuracy")), method);
            assertEquals(TASKS, names(run.get("exact_match")), method);
            for (String t : TASKS) {
                double acc = run.get("accuracy").get(t).asDouble();
                assertTrue(acc == 0 || acc == 1, method + " " + t + ": one item is right or wrong");
            }
            boolean router = method.equals("mor-e8-r8") || method.equals("moelora-e2-r8");
            assertEquals(router, run.has("router"), method);
            if (router) {
                JsonNode w = run.get("router");
                assertEquals(TASKS, names(w.get("tasks")), method);
                int experts = method.equals("mor-e8-r8") ? 8 : 2;
                assertEquals(experts, w.get("experts").asInt());
                for (JsonNode task : w.get("weights")) {
                    for (JsonNode module : task) {
                        double sum = 0;
                        for (JsonNode e : module) {
                            sum += e.asDouble();
                        }
                        assertEquals(1.0, sum, 1e-5, method + ": a mean of distributions sums to 1");
                    }
                }
                assertTrue(run.has("router_at_init"), method);
            }
            assertEquals(method.equals("more-r8"), run.has("ranks"), method);
            assertTrue(Files.isRegularFile(out.resolve("runs/final/" + method + "/lr-0.01-seed-0/run.json")), method);
            fullParams = method.equals("full") ? run.get("trainable_parameters").asLong() : fullParams;
            loraParams = method.equals("lora-r8") ? run.get("trainable_parameters").asLong() : loraParams;
        }
        assertTrue(loraParams > 0 && fullParams > 10 * loraParams, loraParams + " vs " + fullParams);
        assertEquals(6, results.get("claims").size());
        assertEquals(PaperMethod.SMOKE.size(), results.get("summaries").size());

        String report = Files.readString(out.resolve("report.md"));
        for (String heading : List.of("## Verdicts", "## Table 1 analogue", "## Table 3 analogue",
                "## Table 4 analogue", "## Router specialisation", "## Ranks MoRE chose per task",
                "## Wall-clock per method")) {
            assertTrue(report.contains(heading), heading + " in\n" + report);
        }
        for (PaperMethod m : PaperMethod.SMOKE) {
            assertTrue(report.contains("| " + m.cliName() + " | "), m.cliName());
        }
        assertTrue(report.contains("| mor-e1-r8 | not run |"), report);
        for (String png : List.of("training-curves.png", "wall-clock.png", "router-mor-e8-r8.png",
                "router-moelora-e2-r8.png", "ranks-more-r8.png")) {
            BufferedImage image = ImageIO.read(out.resolve(png).toFile());
            assertNotNull(image, png);
            assertTrue(image.getWidth() > 100 && image.getHeight() > 100, png);
        }
        for (String line : r.out().lines().toList()) {
            assertTrue(line.matches("(Table|Fig\\.) .*: (reproduced|not reproduced|inconclusive.*|not run) \\(.*\\)"),
                    line);
        }

        byte[] before = Files.readAllBytes(out.resolve("runs/final/mor-e8-r8/lr-0.01-seed-0/run.json"));
        CliTestSupport.Run again = paper(out);
        assertEquals(0, again.exitCode(), again.err());
        assertTrue(again.err().contains("skipped 6 finished run(s)"), again.err());
        assertFalse(again.err().contains("[1/"), again.err());
        assertTrue(again.err().contains("estimate: 0 runs to do"), again.err());
        assertArrayEquals(before, Files.readAllBytes(out.resolve("runs/final/mor-e8-r8/lr-0.01-seed-0/run.json")));
        assertEquals(finals, JSON.readTree(out.resolve("results.json").toFile()).get("final_runs"));

        CliTestSupport.Run otherSteps = paper(out, "--steps", "5");
        assertEquals(MorCli.EXIT_INPUT, otherSteps.exitCode());
        assertTrue(otherSteps.err().contains("other settings (steps 4 there, 5 now)"), otherSteps.err());
    }

    @Test
    void aGridOfTwoRatesChoosesTheLowerValidationLossAndAPlanOverTheBudgetIsRefused() throws Exception {
        Path out = tmp.resolve("search");
        CliTestSupport.Run r = paper(out, "--methods", "lora-r8", "--lr-grid", "0.01,0.002");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        JsonNode search = results.get("search_runs");
        assertEquals(2, search.size());
        double best = Double.NaN;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (JsonNode run : search) {
            assertEquals(0, run.get("seed").asInt());
            double loss = run.get("validation_loss").asDouble();
            assertTrue(Double.isFinite(loss) && loss > 0, run.toString());
            assertFalse(run.has("accuracy"), "search runs are not tested");
            if (loss < bestLoss) {
                bestLoss = loss;
                best = run.get("lr").asDouble();
            }
        }
        assertEquals(best, results.get("chosen_lr").get("lora-r8").asDouble());
        assertEquals(best, results.get("final_runs").get(0).get("lr").asDouble());
        assertTrue(Files.readString(out.resolve("report.md")).contains("## Learning-rate search"));

        byte[] before = Files.readAllBytes(out.resolve("results.json"));
        byte[] timing = Files.readAllBytes(out.resolve("timing.json"));
        CliTestSupport.Run refused = paper(out, "--methods", "lora-r8", "--lr-grid", "0.01,0.002", "--seeds", "3",
                "--budget-minutes", "0.0001");
        assertEquals(MorCli.EXIT_INPUT, refused.exitCode());
        assertTrue(refused.err().contains("the plan has 2 runs to do (0 search, 2 final)"), refused.err());
        assertTrue(refused.err().contains("more than --budget-minutes 0. What would fit"), refused.err());
        assertArrayEquals(before, Files.readAllBytes(out.resolve("results.json")));
        assertArrayEquals(timing, Files.readAllBytes(out.resolve("timing.json")), "the timing is reused, not measured again");
    }

    private static List<String> names(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(n -> out.add(n.asText()));
        } else {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                out.add(it.next());
            }
        }
        return out;
    }
}
