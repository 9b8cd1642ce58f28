package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainConfigTest {

    @TempDir
    Path tmp;

    private Path write(String json) throws IOException {
        Path f = tmp.resolve("train.json");
        Files.writeString(f, json);
        return f;
    }

    @Test
    void defaultsAreHuggingFaceLike() throws IOException {
        TrainConfig c = TrainConfig.read(write("{\"max_steps\": 100}"));
        assertEquals(2e-4, c.learningRate());
        assertEquals(0.0, c.weightDecay());
        assertEquals(0.9, c.adamBeta1());
        assertEquals(0.999, c.adamBeta2());
        assertEquals(1e-8, c.adamEpsilon());
        assertEquals(0.03, c.warmupRatio());
        assertEquals(LrSchedulerType.LINEAR, c.lrScheduler());
        assertEquals(1, c.gradientAccumulationSteps());
        assertEquals(1.0, c.maxGradNorm());
        assertEquals(5, c.maxConsecutiveNonfinite());
        assertEquals(TrainConfig.builder().maxSteps(100).build(), c);
    }

    @Test
    void jsonIsSnakeCaseAndRoundTrips() throws IOException {
        TrainConfig c = TrainConfig.builder().maxSteps(7).learningRate(1e-3).lrScheduler(LrSchedulerType.COSINE)
                .gradientAccumulationSteps(4).saveTotalLimit(2).seed(-3).build();
        ObjectMapper json = new ObjectMapper();
        JsonNode tree = json.valueToTree(c);
        assertEquals("cosine", tree.get("lr_scheduler").asText());
        assertEquals(4, tree.get("gradient_accumulation_steps").asInt());
        assertEquals(5, tree.get("max_consecutive_nonfinite").asInt());
        assertEquals(c, TrainConfig.read(write(json.writeValueAsString(c))));
    }

    @Test
    void errorsNameTheFileAndTheKey() throws IOException {
        MorException e = assertThrows(MorException.class,
                () -> TrainConfig.read(write("{\"max_steps\": 10, \"lerning_rate\": 1}")));
        assertTrue(e.getMessage().contains("train.json: unknown key 'lerning_rate'"), e.getMessage());
        e = assertThrows(MorException.class, () -> TrainConfig.read(write("{\"max_steps\": 10, \"adam_beta2\": 1.0}")));
        assertTrue(e.getMessage().contains("train.json: train config: adam_beta2 is 1.0; expected a value in [0, 1)"),
                e.getMessage());
        e = assertThrows(MorException.class, () -> TrainConfig.read(write("{\"learning_rate\": 0.1}")));
        assertTrue(e.getMessage().contains("max_steps is 0; expected an integer ≥ 1"), e.getMessage());
        e = assertThrows(MorException.class, () -> TrainConfig.read(write("{\"max_steps\": 3, \"lr_scheduler\": \"step\"}")));
        assertTrue(e.getMessage().contains("unknown lr_scheduler 'step'"), e.getMessage());
        e = assertThrows(MorException.class, () -> TrainConfig.builder().maxSteps(1).gradientAccumulationSteps(0).build());
        assertTrue(e.getMessage().contains("gradient_accumulation_steps"), e.getMessage());
    }
}
