package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * {@link BpeModel} looks a word's characters up in an array when its symbols are bare characters; with an empty
 * {@code continuing_subword_prefix} (the same symbols) it looks them up in the vocabulary map as strings. Both
 * must give the same ids: on random mixed-script text with characters missing from the vocabulary (byte
 * fallback, unknown), supplementary characters and lone surrogates.
 */
class BpeInitialSymbolsTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"sp-bpe-32k", "llama3"})
    void arrayLookupGivesWhatTheMapGives(String name) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = (ObjectNode) mapper.readTree(TokenizerCache.dir(name).resolve("tokenizer.json").toFile());
        ((ObjectNode) root.get("model")).put("continuing_subword_prefix", "");
        Path file = dir.resolve("tokenizer.json");
        mapper.writeValue(file.toFile(), root);
        Tokenizer byMap = Tokenizer.load(file);
        Tokenizer byArray = TokenizerCache.get(name);
        Random random = new Random(5);
        for (int n = 0; n < 2_000; n++) {
            StringBuilder sb = new StringBuilder();
            int length = 1 + random.nextInt(40);
            for (int i = 0; i < length; i++) {
                int cp = switch (random.nextInt(8)) {
                    case 0 -> 0x4E00 + random.nextInt(0x5000);
                    case 1 -> 0x1F600 + random.nextInt(0x50);
                    case 2 -> 0xD800 + random.nextInt(0x800);
                    case 3 -> 0x0080 + random.nextInt(0x2000);
                    case 4 -> ' ';
                    default -> 0x21 + random.nextInt(0x5E);
                };
                sb.appendCodePoint(cp);
            }
            String text = sb.toString();
            assertArrayEquals(byMap.encode(text, false), byArray.encode(text, false), text);
        }
    }
}
