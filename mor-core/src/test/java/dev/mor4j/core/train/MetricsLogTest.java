package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {

    @TempDir
    Path tmp;

    @Test
    void writesOneFlushedJsonLinePerStepAndAppendsOnResume() throws IOException {
        Path out = tmp.resolve("run");
        TinyProblem p = new TinyProblem(1, 0.0, 1, 3);
        p.nanSteps.add(1L);
        TrainConfig c = TrainConfig.builder().maxSteps(4).saveSteps(0).build();
        Path file = out.resolve(MetricsLog.FILE);
        try (MetricsLog log = MetricsLog.in(out)) {
            Trainer t = new Trainer(c, p.params, p.source).addListener(log);
            t.addListener(m -> {
                try { // flushed: the line is on disk when the step is reported
                    assertEquals(m.step(), Files.readAllLines(file).size());
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            t.train(3);
        }
        try (MetricsLog log = MetricsLog.in(out)) {
            log.onStep(new StepMetrics(4, 0.5, 1e-4, 0.1, 8, 100, false, null, 9));
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals(4, lines.size());
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        for (String key : new String[] {"step", "loss", "lr", "grad_norm", "tokens", "tokens_per_second", "skipped",
                "elapsed_seconds"}) {
            assertTrue(first.has(key), key + " in " + lines.get(0));
        }
        assertEquals(1, first.get("step").asLong());
        assertEquals(8, first.get("tokens").asLong());
        assertFalse(first.get("skipped").asBoolean());
        assertFalse(first.has("skip_reason"));
        JsonNode skipped = json.readTree(lines.get(1));
        assertTrue(skipped.get("skipped").asBoolean());
        assertTrue(skipped.get("loss").isNull(), "NaN is written as null: " + lines.get(1));
        assertTrue(skipped.get("skip_reason").asText().contains("NaN"));
        assertEquals(4, json.readTree(lines.get(3)).get("step").asLong());
    }
}
