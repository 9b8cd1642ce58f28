package dev.mor4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny run of the decode benchmark on the bundled model (the 7B-width one needs gigabytes). */
class DecodeSpeedTest {

    private static final Path TESTDATA = TestData.root();

    @TempDir
    Path tmp;

    @Test
    void reportsPrefillAndPerTokenTimesOfTheBundledModel() throws Exception {
        Path out = tmp.resolve("decode.json");
        DecodeSpeed.main(new String[] {"--testdata", TESTDATA.toString(), "--models", "tiny", "--prompt", "5",
            "--tokens", "3", "--rounds", "2", "--warmup", "0", "--out", out.toString()});
        JsonNode tiny = new ObjectMapper().readTree(out.toFile()).path("models").path("tiny");
        assertEquals(5, tiny.path("prompt_tokens").asInt());
        assertEquals(2, tiny.path("decode_ms_per_token").size(), "one per round");
        assertTrue(tiny.path("prefill_ms_median").asDouble() > 0, tiny.toString());
        assertTrue(tiny.path("decode_ms_per_token_median").asDouble() > 0, tiny.toString());
    }

    @Test
    void refusesAnUnknownModelAndTooFewTokens() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DecodeSpeed.main(new String[] {"--models", "huge", "--testdata", TESTDATA.toString()}));
        assertTrue(e.getMessage().contains("'huge'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DecodeSpeed.main(new String[] {"--tokens", "1"}));
    }
}
