package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EncodeCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String tokenizer = TestData.root().resolve("tokenizers/sp-bpe-32k").toString();

    @Test
    void encodesTheSampleExactlyAsTheGoldens() throws Exception {
        for (int maxLen : new int[] {1024, 24}) {
            CliTestSupport.Run r = CliTestSupport.run(null, "encode", "--tokenizer", tokenizer, "--max-len",
                    String.valueOf(maxLen), "--data", TestData.root().resolve("tulu/tulu_v2_sample.jsonl").toString());
            assertEquals(0, r.exitCode(), r.err());
            Map<String, JsonNode> byId = new HashMap<>();
            for (String line : r.out().split("\n")) {
                JsonNode n = JSON.readTree(line);
                byId.put(n.get("id").asText(), n);
            }
            int checked = 0;
            for (JsonNode g : JSON.readTree(TestData.root().resolve("goldens/text_goldens.json").toFile())
                    .get("tulu_sp_bpe_32k")) {
                if (g.get("max_seq_length").asInt() != maxLen) {
                    continue;
                }
                JsonNode mine = byId.get(g.get("id").asText());
                boolean allIgnored = true;
                for (JsonNode l : g.get("labels")) {
                    allIgnored &= l.asInt() == -100;
                }
                if (allIgnored) {
                    assertTrue(mine == null, "examples without trainable labels are dropped: " + g.get("id"));
                    continue;
                }
                assertEquals(g.get("input_ids"), mine.get("input_ids"), g.get("id").asText());
                assertEquals(g.get("labels"), mine.get("labels"), g.get("id").asText());
                checked++;
            }
            assertTrue(checked > 0);
        }
    }

    @Test
    void badLinesAreReportedOnceEachAndStrictStops() {
        String bad = TestData.root().resolve("tulu/tulu_v2_bad.jsonl").toString();
        CliTestSupport.Run r = CliTestSupport.run(null, "encode", "--tokenizer", tokenizer, "--data", bad);
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(2, r.out().split("\n").length, "the two good lines");
        assertTrue(r.err().contains("tulu_v2_bad.jsonl:2:"), r.err());
        CliTestSupport.Run strict = CliTestSupport.run(null, "encode", "--tokenizer", tokenizer, "--data", bad, "--strict");
        assertEquals(MorCli.EXIT_INPUT, strict.exitCode());
        assertTrue(strict.err().contains("tulu_v2_bad.jsonl:2:"), strict.err());
    }
}
