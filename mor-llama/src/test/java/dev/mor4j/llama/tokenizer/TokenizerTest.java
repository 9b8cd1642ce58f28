package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The public API of {@link Tokenizer} on the bundled tokenizers, beyond the goldens. */
class TokenizerTest {

    private static final Tokenizer SP = TokenizerCache.get("sp-bpe-32k");
    private static final Tokenizer LLAMA3 = TokenizerCache.get("llama3");

    @TempDir
    Path tmp;

    @Test
    void vocabularyLookups() {
        assertEquals(32000, SP.vocabSize());
        assertEquals(128256, LLAMA3.vocabSize()); // 128000 merges vocabulary + 256 added tokens
        assertEquals(OptionalInt.of(272), SP.tokenId("▁the"));
        assertEquals("▁the", SP.idToToken(272));
        assertEquals("<0x0A>", SP.idToToken(13));
        assertEquals(OptionalInt.of(128009), LLAMA3.tokenId("<|eot_id|>"));
        assertEquals("<|eot_id|>", LLAMA3.idToToken(128009));
        assertEquals(OptionalInt.empty(), SP.tokenId("no such token"));
        assertThrows(IllegalArgumentException.class, () -> SP.idToToken(32000));
        assertThrows(IllegalArgumentException.class, () -> SP.idToToken(-1));
        assertTrue(SP.isSpecial(1) && SP.isSpecial(2) && !SP.isSpecial(272));
    }

    @Test
    void bosAndEosFromTokenizerConfig() {
        assertEquals(OptionalInt.of(1), SP.bosId());
        assertEquals(OptionalInt.of(2), SP.eosId());
        assertEquals("</s>", SP.eosToken().orElseThrow());
        assertEquals(OptionalInt.of(128000), LLAMA3.bosId());
        assertEquals(OptionalInt.of(128001), LLAMA3.eosId());
        assertEquals("<|end_of_text|>", LLAMA3.eosToken().orElseThrow());
    }

    @Test
    void bosAndEosWithoutTokenizerConfig() throws IOException {
        Path sp = Files.copy(TokenizerCache.dir("sp-bpe-32k").resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
        Tokenizer bare = Tokenizer.load(sp);
        assertEquals(OptionalInt.of(1), bare.bosId(), "BOS from the TemplateProcessing post-processor");
        assertEquals(OptionalInt.of(2), bare.eosId(), "EOS by its usual name");
        assertEquals(sp, bare.source());
    }

    @Test
    void loadsFromFileOrDirectory() {
        Tokenizer fromFile = Tokenizer.load(TokenizerCache.dir("sp-bpe-32k").resolve("tokenizer.json"));
        assertArrayEquals(SP.encode("Hello world", true), fromFile.encode("Hello world", true));
    }

    @Test
    void mergesWrittenAsPairsGiveTheSameTokens() throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = (ObjectNode) mapper.readTree(
                TokenizerCache.dir("sp-bpe-32k").resolve("tokenizer.json").toFile());
        ArrayNode pairs = mapper.createArrayNode();
        for (JsonNode merge : root.get("model").get("merges")) {
            String[] parts = merge.asText().split(" ");
            pairs.addArray().add(parts[0]).add(parts[1]);
        }
        ((ObjectNode) root.get("model")).set("merges", pairs);
        Path file = tmp.resolve("tokenizer.json");
        mapper.writeValue(file.toFile(), root);
        Tokenizer fromPairs = Tokenizer.load(file);
        JsonNode goldens = mapper.readTree(TokenizerGoldenTest.TESTDATA.resolve("goldens/text_goldens.json").toFile())
                .get("tokenizers").get("sp-bpe-32k");
        for (JsonNode g : goldens) {
            assertArrayEquals(TokenizerGoldenTest.ints(g.get("ids")), fromPairs.encode(g.get("text").asText(), true),
                    g.get("text").asText());
        }
    }

    @Test
    void specialTokensAreMatchedInTheRawText() {
        int hi = LLAMA3.tokenId("Hi").orElseThrow();
        assertArrayEquals(new int[] {128000, hi, 128009}, LLAMA3.encode("<|begin_of_text|>Hi<|eot_id|>", false));
        assertEquals("Hi", LLAMA3.decode(new int[] {128000, hi, 128009}, true));
        assertEquals("<|begin_of_text|>Hi<|eot_id|>", LLAMA3.decode(new int[] {128000, hi, 128009}, false));
    }

    @Test
    void decodeCanSkipSpecialTokens() {
        int[] ids = SP.encode("<s> literal special </s>", true);
        assertEquals(List.of("<s>", "<s>", "▁", "▁literal", "▁special", "▁", "</s>"),
                SP.tokens("<s> literal special </s>", true));
        assertEquals(" literal special ", SP.decode(ids, true));
    }

    @Test
    void decodeSkipsIdsWithoutToken() {
        int a = SP.tokenId("▁a").orElseThrow();
        assertEquals("a", SP.decode(new int[] {a, 99_999, -5}, false));
    }

    @Test
    void letterAssignedAfterUnicode13() {
        // U+31AA8 (CJK extension H, Unicode 15) is a letter for the reference, so "<hello" stays one pre-token;
        // ids computed with tokenizers 0.23.2
        assertEquals(List.of("ð", "±", "ª", "¨", "<h", "ello"), LLAMA3.tokens("\uD886\uDEA8<hello", false));
        assertArrayEquals(new int[] {172, 109, 103, 101, 10174, 4896}, LLAMA3.encode("\uD886\uDEA8<hello", false));
    }

    @Test
    void decodeInvertsEncodeOnRandomText() {
        Random random = new Random(7);
        for (int i = 0; i < 300; i++) {
            String text = randomText(random, random.nextInt(40));
            assertEquals(text, LLAMA3.decode(LLAMA3.encode(text, false), false), "llama3: " + text);
            assertEquals(text, SP.decode(SP.encode(text, true), true), "sp-bpe-32k: " + text);
        }
    }

    @Test
    void encodesOneMegabyteInAFewSeconds() {
        Random random = new Random(3);
        StringBuilder sb = new StringBuilder();
        String[] words = {"the", "model", "tokenizer", "Hello", "world", "fine-tuning", "LLaMA", "2024", "你好",
                "naïve", "x", "(", ")", "{", "}", ";", "\n", "\t", "  "};
        while (sb.length() < 1_000_000) {
            sb.append(words[random.nextInt(words.length)]).append(random.nextInt(5) == 0 ? "" : " ");
        }
        String text = sb.toString();
        for (Tokenizer t : List.of(SP, LLAMA3)) {
            long start = System.nanoTime();
            int[] ids = t.encode(text, true);
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(ids.length > 100_000, "too few tokens: " + ids.length);
            assertTrue(seconds < 10, t + " took " + seconds + " s for 1 MB");
            assertEquals(text, t.decode(ids, true));
        }
    }

    /** Mixed-script text without added-token strings (which the SentencePiece decoder does not round-trip). */
    private static String randomText(Random random, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            int kind = random.nextInt(10);
            int cp = switch (kind) {
                case 0 -> " \t\n\r\u00a0\u3000".charAt(random.nextInt(6));
                case 1 -> 0x4E00 + random.nextInt(0x5000);
                case 2 -> 0x1F600 + random.nextInt(0x50);
                case 3 -> 0x0300 + random.nextInt(0x70);
                case 4 -> 0xA0 + random.nextInt(0x2000);
                default -> 0x20 + random.nextInt(0x5F);
            };
            sb.appendCodePoint(cp);
        }
        String s = sb.toString();
        return s.contains("<s>") || s.contains("</s>") || s.contains("<unk>") ? "" : s;
    }

    @Test
    void tokensListIsImmutable() {
        List<String> tokens = SP.tokens("Hello", false);
        assertFalse(tokens.isEmpty());
        assertThrows(UnsupportedOperationException.class, () -> tokens.add("x"));
    }
}
