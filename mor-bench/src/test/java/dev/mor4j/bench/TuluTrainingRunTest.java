package dev.mor4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.data.EncodedExample;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Tulu-shaped workload is what its Javadoc states, and a tiny run of the benchmark reports every variant. */
class TuluTrainingRunTest {

    private static final Path TESTDATA = TestData.root();

    @TempDir
    Path tmp;

    @Test
    void theWorkloadHasTheSampleShapesStretchedToTheMaxLength() {
        List<boolean[]> shapes = TuluWorkload.sampleShapes(TESTDATA);
        assertEquals(16, shapes.size());
        assertEquals(98, shapes.stream().mapToInt(s -> s.length).max().orElseThrow());
        assertEquals(32, shapes.stream().mapToInt(s -> s.length).min().orElseThrow());
        assertEquals(903, shapes.stream().mapToInt(s -> s.length).sum());
        int labelled = 0;
        for (boolean[] s : shapes) {
            for (boolean l : s) {
                labelled += l ? 1 : 0;
            }
        }
        assertEquals(316, labelled);

        TuluWorkload w = TuluWorkload.of(shapes, 400, 1024, 32000, 7);
        assertEquals(1024 / 98.0, w.scale(), 1e-12);
        Set<Integer> lengths = new HashSet<>();
        for (EncodedExample e : w.examples()) {
            assertTrue(e.length() >= 334 && e.length() <= 1024, "length " + e.length());
            assertEquals(1, e.inputIds()[0], "BOS");
            lengths.add(e.length());
        }
        long distinct = shapes.stream().mapToInt(x -> x.length).distinct().count();
        assertEquals(distinct, lengths.size(), "every shape's length drawn");
        assertTrue(lengths.contains(1024), "the longest shape is the max length");
        double share = w.labelled() / (double) w.tokens();
        double mean = w.tokens() / 400.0;
        assertTrue(Math.abs(share - 0.35) < 0.04, "labelled share " + share);
        assertTrue(Math.abs(mean - 589) < 60, "mean length " + mean);
    }

    @Test
    void aTinyRunReportsRealTokensPerSecondOfEveryVariant() throws Exception {
        Path workloadFile = tmp.resolve("workload.json");
        Path out = tmp.resolve("tulu.json");
        TuluTrainingRun.Settings s = TuluTrainingRun.Settings.parse(new String[] {"--model", "tiny", "--layers", "1",
            "--batch", "4", "--max-len", "64", "--steps", "2", "--warmup", "0", "--recompute", "off",
            "--testdata", TESTDATA.toString(), "--workload", workloadFile.toString(), "--out", out.toString()});
        TuluTrainingRun.run(s);
        JsonNode r = new ObjectMapper().readTree(out.toFile());
        JsonNode v = r.get("variants");
        long tokens = r.get("workload").get("tokens").asLong();
        for (TuluBatching b : TuluBatching.values()) {
            JsonNode x = v.get(b.label());
            assertEquals(tokens, x.get("real_tokens").asLong(), b + ": every example once");
            assertTrue(x.get("real_tokens_per_second").asDouble() > 0, b.label());
        }
        long padded = v.get("padded").get("positions").asLong();
        assertTrue(v.get("packing").get("positions").asLong() < padded, "packing computes fewer positions");
        assertTrue(v.get("group-by-length").get("positions").asLong() <= padded);
        assertEquals(v.get("packing").get("positions").asLong(),
                v.get("packing + label-only head").get("positions").asLong());
        assertTrue(v.get("packing + label-only head").get("label_only_head_requested").asBoolean());
        assertTrue(v.get("packing + label-only head").get("label_only_head_in_effect").asBoolean());
        assertFalse(v.get("packing").get("label_only_head_requested").asBoolean(), "the head at every position");

        JsonNode w = new ObjectMapper().readTree(workloadFile.toFile());
        assertEquals(8, w.get("examples").size());
        assertEquals(64, w.get("model").get("hidden").asInt());
        for (String order : List.of("padded", "group-by-length")) {
            Set<Integer> seen = new HashSet<>();
            for (JsonNode batch : w.get("batches").get(order)) {
                assertEquals(4, batch.size());
                batch.forEach(i -> seen.add(i.asInt()));
            }
            assertEquals(8, seen.size(), order + ": every example once");
        }
    }
}
