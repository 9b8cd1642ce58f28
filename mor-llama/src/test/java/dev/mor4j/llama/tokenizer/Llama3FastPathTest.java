package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LLaMA-3 tokenizer's fused path ({@link Llama3Splitter}, {@link Llama3WordEncoder}, {@link VocabularyIndex})
 * must give exactly what the straightforward pipeline gives: the split regex matched by {@link java.util.regex},
 * the pieces mapped by {@link ByteLevelPreTokenizer}, each tokenized by {@link BpeModel#tokenize(String,
 * TokenBuffer)}.
 */
class Llama3FastPathTest {

    private static final Path TESTDATA = TestData.root();
    private static final Tokenizer FAST = TokenizerCache.get("llama3");
    private static final Tokenizer STRAIGHTFORWARD = FAST.withPreTokenizer(new PreTokenizer.Sequence(List.of(
            new PreTokenizer.Split(TextPattern.javaRegex(Llama3Splitter.PATTERN), SplitBehavior.ISOLATED, false),
            new ByteLevelPreTokenizer(false, false))));

    @Test
    void theBundledTokenizerTakesTheFastPath() {
        assertTrue(Llama3WordEncoder.handles(FAST.preTokenizer()));
        assertFalse(Llama3WordEncoder.handles(STRAIGHTFORWARD.preTokenizer()));
    }

    @Test
    void sameOnTheWholeTuluSampleAndTheGoldens() throws IOException {
        List<String> texts = new ArrayList<>(Files.readAllLines(TESTDATA.resolve("tulu/tulu_v2_sample.jsonl")));
        for (JsonNode line : new ObjectMapper().readerFor(JsonNode.class).readValues(
                TESTDATA.resolve("tulu/tulu_v2_sample.jsonl").toFile()).readAll().stream()
                .map(JsonNode.class::cast).toList()) {
            for (JsonNode m : line.get("messages")) {
                texts.add(m.get("content").asText());
            }
        }
        texts.add(Files.readString(TESTDATA.resolve("tulu/tulu_v2_sample.jsonl")));
        JsonNode goldens = new ObjectMapper().readTree(TESTDATA.resolve("goldens/text_goldens.json").toFile());
        for (JsonNode entries : goldens.path("tokenizers")) {
            for (JsonNode e : entries) {
                texts.add(e.get("text").asText());
            }
        }
        assertTrue(texts.size() > 60, "texts: " + texts.size());
        for (String text : texts) {
            assertSame(text);
        }
    }

    /** Random texts: words in several scripts, numbers, contractions, whitespace runs, emoji, lone surrogates. */
    @Test
    void sameOnRandomTexts() {
        String[] pieces = {"'s", "'T", "'re", "'ll", "'ſ", "'", "the", " the", "Hello", " wörld", "naïve", "İ",
            "你好", "こんにちは", "Привет", "\u0870", "\u0301", "1", "12", "2024", "٣٤", "Ⅻ", " ", "  ", "\t", "\n",
            "\r\n", "\n\n\n", " \n ", "\u00a0", "\u2028", "\u0085", "\u3000", ".", ", ", "!?", "...", "--", "$5",
            "<|user|>", "<|end_of_text|>", "<|begin_of_text|>", "<|eot_id|>", "😀", "👍🏽", "\uD83D", "\uDE00",
            "\u200b", "\uFEFF", "𝐀𝐁", "\u0000", "\u007f", "ÿ", "zzzqxj", "Supercalifragilistic"};
        Random random = new Random(11);
        for (int n = 0; n < 5_000; n++) {
            StringBuilder sb = new StringBuilder();
            int length = 1 + random.nextInt(30);
            for (int i = 0; i < length; i++) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            assertSame(sb.toString());
        }
    }

    private static void assertSame(String text) {
        assertArrayEquals(STRAIGHTFORWARD.encode(text, true), FAST.encode(text, true), text);
        assertEquals(STRAIGHTFORWARD.tokens(text, false), FAST.tokens(text, false), text);
    }
}
