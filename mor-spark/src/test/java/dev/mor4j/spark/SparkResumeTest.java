package dev.mor4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.train.MetricsLog;
import dev.mor4j.core.train.StepMetrics;
import dev.mor4j.core.train.TrainListener;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.MetricsFile;
import dev.mor4j.llama.train.RouterStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A driver lost after a checkpoint: a new driver resumes from it and ends with the uninterrupted run's adapter. */
class SparkResumeTest {

    /** Kills the driver (throws out of training) right after step 3, before step 3's checkpoint. */
    private static final class DriverLost extends RuntimeException {
        DriverLost() {
            super("driver lost after step 3");
        }
    }

    @Test
    void aNewDriverResumesFromTheLastCheckpointExactly(@TempDir Path tmp) throws Exception {
        Path straight = tmp.resolve("straight");
        SparkFixtures.fineTune(4, 11, straight, null, null).train(); // uninterrupted (here: bit-equal to Spark)

        Path run = tmp.resolve("spark");
        TrainListener dies = new TrainListener() {
            @Override
            public void onStep(StepMetrics m) {
                if (m.step() == 3) {
                    throw new DriverLost();
                }
            }
        };
        try (SparkBackend first = new SparkBackend("local[2]", 2)) {
            LlamaFineTune ft = SparkFixtures.fineTune(4, 11, run, first, dies);
            assertThrows(DriverLost.class, ft::train);
        }
        assertTrue(Files.isDirectory(run.resolve("checkpoint-2")));
        assertFalse(Files.exists(run.resolve("checkpoint-3")), "the driver died before step 3's checkpoint");
        assertEquals(3, MetricsFile.read(run.resolve(MetricsLog.FILE)).size());

        try (SparkBackend second = new SparkBackend("local[2]", 2)) {
            LlamaFineTune ft = SparkFixtures.fineTune(4, 999, run, second, null); // other initial weights
            assertEquals(run.resolve("checkpoint-2"), ft.resume(run));
            assertEquals(2, ft.train().steps().size());
        }
        assertArrayEquals(Files.readAllBytes(straight.resolve(AdapterFiles.WEIGHTS)),
                Files.readAllBytes(run.resolve(AdapterFiles.WEIGHTS)), "the same adapter bytes");
        assertEquals(Files.readString(straight.resolve(RouterStats.FILE)),
                Files.readString(run.resolve(RouterStats.FILE)));
        List<JsonNode> a = MetricsFile.read(straight.resolve(MetricsLog.FILE));
        List<JsonNode> b = MetricsFile.read(run.resolve(MetricsLog.FILE));
        assertEquals(4, b.size(), "step 3 once, from the resumed driver");
        for (int i = 0; i < 4; i++) {
            assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0,
                    "loss of step " + (i + 1));
        }
    }
}
