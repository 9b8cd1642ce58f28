package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.TestData;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

class ForwardCommandTest {

    @TempDir
    Path tmp;

    private final Path model = TestData.root().resolve("models/tiny-llama-f32");
    private final Path goldens = TestData.root().resolve("goldens/goldens-base-mor.safetensors");

    @Test
    void reproducesTransformersLogitsAndLoss() {
        Path out = tmp.resolve("out.safetensors");
        CliTestSupport.Run r = CliTestSupport.run(null, "forward", "--model", model.toString(),
                "--inputs", goldens.toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (SafetensorsFile o = SafetensorsFile.open(out); SafetensorsFile g = SafetensorsFile.open(goldens)) {
            double d = Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.reduce.same.AMax(
                    o.getFloat("logits").sub(g.getFloat("base.logits")))).getDouble(0);
            assertTrue(d <= 1e-4, "logits max abs diff " + d);
            assertTrue(Math.abs(o.getFloat("loss").getDouble(0) - g.getFloat("base.loss").getDouble(0)) <= 1e-5);
        }
    }

    @Test
    void truncatedInputFileGivesOneLineAndExitCode2() throws Exception {
        Path bad = tmp.resolve("bad.safetensors");
        byte[] all = Files.readAllBytes(goldens);
        Files.write(bad, java.util.Arrays.copyOf(all, 200));
        CliTestSupport.Run r = CliTestSupport.run(null, "forward", "--model", model.toString(),
                "--inputs", bad.toString(), "--out", tmp.resolve("o.safetensors").toString());
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("bad.safetensors"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace without --verbose: " + r.err());
        assertFalse(Files.exists(tmp.resolve("o.safetensors")));
    }

    @Test
    void inputIdsBeyondTheVocabularyAreRefused() {
        Path in = tmp.resolve("in.safetensors");
        SafetensorsWriter.write(in, Map.of("input_ids", Nd4j.createFromArray(new long[][] {{1, 40000}}),
                "attention_mask", Nd4j.createFromArray(new long[][] {{1, 1}})));
        CliTestSupport.Run r = CliTestSupport.run(null, "forward", "--model", model.toString(),
                "--inputs", in.toString(), "--out", tmp.resolve("o.safetensors").toString());
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().contains("input_ids[0][1] = 40000"), r.err());
        CliTestSupport.Run verbose = CliTestSupport.run(null, "forward", "--verbose", "--model", model.toString(),
                "--inputs", in.toString(), "--out", tmp.resolve("o.safetensors").toString());
        assertTrue(verbose.err().contains("\tat "), "--verbose prints the stack trace");
    }

    @Test
    void refusesToOverwriteItsInput() throws Exception {
        Path copy = tmp.resolve("in.safetensors");
        Files.copy(goldens, copy);
        byte[] before = Files.readAllBytes(copy);
        CliTestSupport.Run r = CliTestSupport.run(null, "forward", "--model", model.toString(),
                "--inputs", copy.toString(), "--out", copy.toString());
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(copy)));
    }

    @Test
    void missingRequiredOptionIsAUsageError() {
        CliTestSupport.Run r = CliTestSupport.run(null, "forward", "--model", model.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--inputs"), r.err());
    }
}
