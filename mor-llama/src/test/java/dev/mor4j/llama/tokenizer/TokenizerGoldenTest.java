package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Every string of {@code goldens/text_goldens.json → tokenizers.<name>[]} must give exactly the ids, tokens and
 * decoded text of the HF reference.
 */
class TokenizerGoldenTest {

    static final Path TESTDATA = TestData.root();

    @TestFactory
    Stream<DynamicTest> spBpe32k() throws IOException {
        return goldens("sp-bpe-32k");
    }

    @TestFactory
    Stream<DynamicTest> llama3() throws IOException {
        return goldens("llama3");
    }

    private static Stream<DynamicTest> goldens(String name) throws IOException {
        JsonNode entries = new ObjectMapper().readTree(TESTDATA.resolve("goldens/text_goldens.json").toFile())
                .path("tokenizers").path(name);
        assertFalse(entries.isEmpty(), "no goldens for " + name);
        Tokenizer tokenizer = TokenizerCache.get(name);
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            JsonNode e = entries.get(i);
            String text = e.get("text").asText();
            String label = name + " #" + i + " " + abbreviate(text);
            tests.add(DynamicTest.dynamicTest(label, () -> {
                int[] idsNoSpecial = ints(e.get("ids_no_special"));
                assertArrayEquals(ints(e.get("ids")), tokenizer.encode(text, true), "ids");
                assertArrayEquals(idsNoSpecial, tokenizer.encode(text, false), "ids_no_special");
                assertEquals(strings(e.get("tokens_no_special")), tokenizer.tokens(text, false),
                        "tokens_no_special");
                assertEquals(e.get("decoded_no_special").asText(), tokenizer.decode(idsNoSpecial, false),
                        "decoded_no_special");
            }));
        }
        return tests.stream();
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static String abbreviate(String text) {
        String oneLine = text.replace("\n", "\\n").replace("\t", "\\t");
        return oneLine.length() > 40 ? oneLine.substring(0, 37) + "..." : oneLine;
    }
}
