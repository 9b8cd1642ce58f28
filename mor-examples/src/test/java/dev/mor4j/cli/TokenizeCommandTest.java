package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizeCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void writesOneIdArrayPerLineMatchingTheGoldens() throws Exception {
        JsonNode goldens = JSON.readTree(TestData.root().resolve("goldens/text_goldens.json").toFile())
                .get("tokenizers");
        for (String name : List.of("sp-bpe-32k", "llama3")) {
            StringBuilder stdin = new StringBuilder();
            List<String> withSpecial = new ArrayList<>();
            List<String> noSpecial = new ArrayList<>();
            for (JsonNode g : goldens.get(name)) {
                stdin.append(JSON.writeValueAsString(g.get("text").asText())).append('\n');
                withSpecial.add(JSON.writeValueAsString(g.get("ids")));
                noSpecial.add(JSON.writeValueAsString(g.get("ids_no_special")));
            }
            String dir = TestData.root().resolve("tokenizers/" + name).toString();
            CliTestSupport.Run r = CliTestSupport.run(stdin.toString(), "tokenize", "--tokenizer", dir);
            assertEquals(0, r.exitCode(), r.err());
            assertEquals(withSpecial, normalise(r.out()), name);
            CliTestSupport.Run ns = CliTestSupport.run(stdin.toString(), "tokenize", "--tokenizer", dir, "--no-special");
            assertEquals(noSpecial, normalise(ns.out()), name + " --no-special");
        }
    }

    private static List<String> normalise(String out) throws Exception {
        List<String> lines = new ArrayList<>();
        for (String line : out.split("\n")) {
            lines.add(JSON.writeValueAsString(JSON.readTree(line)));
        }
        return lines;
    }

    @Test
    void brokenTokenizerJsonIsReportedWithExitCode2() throws Exception {
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": ");
        CliTestSupport.Run r = CliTestSupport.run("\"hi\"\n", "tokenize", "--tokenizer", tmp.toString());
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("tokenizer.json"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void aLineThatIsNotAJsonStringIsNamed() {
        String dir = TestData.root().resolve("tokenizers/sp-bpe-32k").toString();
        CliTestSupport.Run r = CliTestSupport.run("\"ok\"\nnot json\n", "tokenize", "--tokenizer", dir);
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().contains("stdin:2"), r.err());
    }
}
