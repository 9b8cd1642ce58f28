package dev.mor4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.cli.MorCli;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.train.MetricsLog;
import dev.mor4j.llama.train.MetricsFile;
import dev.mor4j.llama.train.RouterStats;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mor finetune --spark local[2]} against the same command without {@code --spark}. */
class SparkFinetuneCommandTest {

    private record Run(int exitCode, String out, String err) {
    }

    private static Run finetune(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            String[] all = new String[args.length + 1];
            all[0] = "finetune";
            System.arraycopy(args, 0, all, 1, args.length);
            int code = MorCli.execute(all);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void sixMorStepsOnTwoPartitionsAreTheSingleProcessRunBitForBit(@TempDir Path tmp) throws Exception {
        Path here = tmp.resolve("here");
        Path spark = tmp.resolve("spark");
        // the default MoR (N 8, r 8, dropout 0.05) on the tiny model and the 16-conversation sample, 4 × 4 per step
        List<String> common = List.of("--max-steps", "6", "--batch", "4", "--grad-accum", "4", "--save-steps", "3");
        Run a = finetune(concat(common, "--out", here.toString()));
        assertEquals(0, a.exitCode(), a.err());
        Run b = finetune(concat(common, "--out", spark.toString(), "--spark", "local[2]", "--partitions", "2"));
        assertEquals(0, b.exitCode(), b.err());

        System.out.print("single process:\n" + a.out() + "spark local[2]:\n" + b.out());
        assertTrue(b.out().contains("spark: 2 partitions on 1 executor [driver]; "), b.out());
        assertTrue(b.out().contains(" moved per step: "), b.out());
        assertTrue(b.err().contains("step 6/6  loss "), b.err());

        List<JsonNode> lossesHere = MetricsFile.read(here.resolve(MetricsLog.FILE));
        List<JsonNode> lossesSpark = MetricsFile.read(spark.resolve(MetricsLog.FILE));
        assertEquals(6, lossesSpark.size());
        for (int i = 0; i < 6; i++) {
            double expected = lossesHere.get(i).get("loss").asDouble();
            double actual = lossesSpark.get(i).get("loss").asDouble();
            assertEquals(expected, actual, 1e-6 * Math.abs(expected), "loss of step " + (i + 1));
            assertEquals(expected, actual, 0.0, "loss of step " + (i + 1) + " bit for bit");
            assertEquals(lossesHere.get(i).get("grad_norm").asDouble(), lossesSpark.get(i).get("grad_norm").asDouble(),
                    0.0, "grad_norm of step " + (i + 1));
            assertEquals(lossesHere.get(i).get("tokens").asLong(), lossesSpark.get(i).get("tokens").asLong());
        }
        for (Path dir : List.of(Path.of(""), Path.of("checkpoint-3"), Path.of("checkpoint-6"))) {
            Map<String, float[]> expected = SparkFixtures.savedAdapter(here.resolve(dir));
            Map<String, float[]> actual = SparkFixtures.savedAdapter(spark.resolve(dir));
            assertEquals(expected.keySet(), actual.keySet());
            for (String k : expected.keySet()) {
                float[] e = expected.get(k);
                float[] s = actual.get(k);
                double scale = 0;
                double diff = 0;
                for (int j = 0; j < e.length; j++) {
                    scale = Math.max(scale, Math.abs(e[j]));
                    diff = Math.max(diff, Math.abs(e[j] - s[j]));
                }
                assertTrue(diff <= 1e-6 * scale, dir + " " + k + ": max difference " + diff + " at scale " + scale);
                assertArrayEquals(e, s, dir + " " + k + " bit for bit");
            }
        }
        assertArrayEquals(Files.readAllBytes(here.resolve(AdapterFiles.WEIGHTS)),
                Files.readAllBytes(spark.resolve(AdapterFiles.WEIGHTS)), "the saved adapters are the same bytes");
        assertEquals(Files.readString(here.resolve(RouterStats.FILE)),
                Files.readString(spark.resolve(RouterStats.FILE)), "router statistics");
        assertTrue(Files.isRegularFile(spark.resolve("loss.png")) && Files.isRegularFile(spark.resolve("router.png")));
    }

    @Test
    void partitionsWithoutSparkIsAnError(@TempDir Path tmp) {
        Run r = finetune("--out", tmp.resolve("x").toString(), "--partitions", "2", "--max-steps", "1");
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertEquals("error: --partitions 2 is for --spark runs; add --spark MASTER\n", r.err());
    }

    private static String[] concat(List<String> common, String... more) {
        String[] out = new String[common.size() + more.length];
        for (int i = 0; i < common.size(); i++) {
            out[i] = common.get(i);
        }
        System.arraycopy(more, 0, out, common.size(), more.length);
        return out;
    }
}
