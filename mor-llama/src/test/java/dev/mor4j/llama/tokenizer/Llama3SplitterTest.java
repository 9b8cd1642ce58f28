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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Llama3Splitter} must find exactly the matches of the LLaMA-3 regex as {@link RegexTranslator} compiles
 * it, and {@link CharClasses} must agree with that regex's classes on every code point.
 */
class Llama3SplitterTest {

    private static final Pattern REGEX = RegexTranslator.compile(Llama3Splitter.PATTERN);
    private static final Path TESTDATA = TestData.root();

    @Test
    void patternIsTheOneOfTheBundledLlama3Tokenizer() throws IOException {
        JsonNode split = new ObjectMapper().readTree(TESTDATA.resolve("tokenizers/llama3/tokenizer.json").toFile())
                .path("pre_tokenizer").path("pretokenizers").get(0);
        assertEquals(Llama3Splitter.PATTERN, split.path("pattern").path("Regex").asText());
    }

    @Test
    void classesAgreeWithTheRegexOnEveryCodePoint() {
        Pattern letter = RegexTranslator.compile("\\p{L}");
        Pattern number = RegexTranslator.compile("\\p{N}");
        Pattern space = RegexTranslator.compile("\\s");
        Matcher l = letter.matcher("");
        Matcher n = number.matcher("");
        Matcher s = space.matcher("");
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            String c = Character.toString(cp);
            assertEquals(l.reset(c).matches(), CharClasses.isLetter(cp), () -> "\\p{L} of " + Integer.toHexString(
                    c.codePointAt(0)));
            assertEquals(n.reset(c).matches(), CharClasses.isNumber(cp), () -> "\\p{N} of " + Integer.toHexString(
                    c.codePointAt(0)));
            assertEquals(s.reset(c).matches(), CharClasses.isSpace(cp), () -> "\\s of " + Integer.toHexString(
                    c.codePointAt(0)));
        }
    }

    @Test
    void sameMatchesOnTheTuluSampleAndTheGoldens() throws IOException {
        assertSameMatches(Files.readString(TESTDATA.resolve("tulu/tulu_v2_sample.jsonl")));
        JsonNode goldens = new ObjectMapper().readTree(TESTDATA.resolve("goldens/text_goldens.json").toFile());
        int texts = 0;
        for (JsonNode entries : goldens.path("tokenizers")) {
            for (JsonNode e : entries) {
                assertSameMatches(e.get("text").asText());
                texts++;
            }
        }
        assertTrue(texts > 20, "goldens read: " + texts);
    }

    /** Random texts over contractions, digits, scripts, whitespace runs, line breaks, emoji and lone surrogates. */
    @Test
    void sameMatchesOnRandomTexts() {
        String[] pieces = {"'s", "'S", "'t", "'re", "'RE", "'ve", "'m", "'ll", "'LL", "'d", "'ſ", "'x", "'", "''",
            "a", "Hello", "wörld", "İ", "ǅ", "ʰ", "你好", "ﾊ", "\u0870", "\u0301", "é", "1", "12", "12345", "٣",
            "Ⅻ", "½", "\uD801\uDCA0", " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n ", "\u00a0",
            "\u2028", "\u0085", "\u000b", "\u3000", "\u001c", ".", ",", "!?", "...", "-", "$", "<|user|>", "😀",
            "👍🏽", "\uD83D", "\uDE00", "\u200b", "\u00ad", "\uFEFF", "𝐀", "\uD800\uDC00", "\u0000"};
        Random random = new Random(3);
        StringBuilder corpus = new StringBuilder();
        for (int n = 0; n < 20_000; n++) {
            StringBuilder sb = new StringBuilder();
            int length = 1 + random.nextInt(12);
            for (int i = 0; i < length; i++) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            assertSameMatches(sb.toString());
            corpus.append(sb);
        }
        assertSameMatches(corpus.toString());
    }

    /**
     * Every BMP code point, and every 7th beyond it, after a space, a letter, a digit, an apostrophe and a line
     * break, and before them (the splitter sees a code point only through its classes, checked for all of them
     * above, and through the few characters it names).
     */
    @Test
    void sameMatchesAroundCodePoints() {
        StringBuilder sb = new StringBuilder();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp += cp < 0x10000 ? 1 : 7) {
            sb.append(' ').appendCodePoint(cp).append('a').appendCodePoint(cp).append('1').appendCodePoint(cp)
                    .append('\'').appendCodePoint(cp).append('\n').appendCodePoint(cp).appendCodePoint(cp);
            if (sb.length() > 100_000) {
                assertSameMatches(sb.toString());
                sb.setLength(0);
            }
        }
        assertSameMatches(sb.toString());
    }

    private static void assertSameMatches(String text) {
        List<int[]> expected = new ArrayList<>();
        Matcher m = REGEX.matcher(text);
        while (m.find()) {
            expected.add(new int[] {m.start(), m.end()});
        }
        int at = 0;
        for (int[] e : expected) {
            int end = Llama3Splitter.matchEnd(text, at, text.length());
            if (e[0] != at || e[1] != end) {
                throw new AssertionError("at " + at + " of " + escape(text) + ": regex [" + e[0] + ", " + e[1]
                        + "), splitter [" + at + ", " + end + ")");
            }
            at = end;
        }
        assertEquals(text.length(), at, () -> "the regex's matches do not tile " + escape(text));
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().limit(200).forEach(cp -> sb.append(cp >= 0x20 && cp < 0x7F ? Character.toString(cp)
                : String.format("\\u{%X}", cp)));
        return sb.append(s.length() > 200 ? "...\"" : "\"").toString();
    }
}
