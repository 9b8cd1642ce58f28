package dev.mor4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.llama.train.FineTuneResult;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A task that fails is run again by Spark, and the step's result does not change. */
class SparkFaultTest {

    @Test
    void aFailedTaskIsRetriedAndTheAdapterIsTheSame(@TempDir Path tmp) throws Exception {
        FineTuneResult here = SparkFixtures.fineTune(2, 11, tmp.resolve("here"), null, null).train();
        int before = PartitionWork.faultsInjected();
        FineTuneResult retried;
        try (SparkBackend spark = new SparkBackend("local[2,2]", 2)) { // a task may fail once
            spark.injectFault(1, 1); // step 2's second partition, after its first micro-batch
            retried = SparkFixtures.fineTune(2, 11, tmp.resolve("spark"), spark, null).train();
        }
        assertEquals(before + 1, PartitionWork.faultsInjected(),
                "the fault was injected once, then the task ran again");
        for (int i = 0; i < 2; i++) {
            assertEquals(here.steps().get(i).loss(), retried.steps().get(i).loss(), 0.0, "loss of step " + (i + 1));
        }
        assertArrayEquals(Files.readAllBytes(tmp.resolve("here").resolve(AdapterFiles.WEIGHTS)),
                Files.readAllBytes(tmp.resolve("spark").resolve(AdapterFiles.WEIGHTS)), "the same adapter bytes");
    }

    @Test
    void withoutRetriesTheFailedStepStopsTrainingWithOneLine(@TempDir Path tmp) {
        try (SparkBackend spark = new SparkBackend("local[2]", 2)) { // local mode: no retries
            spark.injectFault(0, 0);
            MorException e = assertThrows(MorException.class,
                    () -> SparkFixtures.fineTune(1, 11, tmp, spark, null).train());
            assertTrue(e.getMessage().startsWith("step 1: the Spark job failed after its task retries: "),
                    e.getMessage());
            assertTrue(e.getMessage().contains("injected fault: step 0, partition 0, first attempt"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }
}
