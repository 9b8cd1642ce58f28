package dev.mor4j.llama.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegexTranslatorTest {

    private static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    @Test
    void llama3RegexSplitsLikeTheReference() {
        Pattern p = RegexTranslator.compile(LLAMA3);
        // expectations checked against tokenizers 0.23.2
        assertEquals(List.of("Hello", " world", "!!\n\n", " ", " '", "S", "123", "4"),
                pieces(p, "Hello world!!\n\n  'S1234"));
        assertEquals(List.of("don", "'t", " I", "'M"), pieces(p, "don't I'M"));
        // \s is Unicode White_Space: NBSP and ideographic space belong to whitespace runs
        assertEquals(List.of("a", "\u00a0", "\u3000b"), pieces(p, "a\u00a0\u3000b"));
        // long s folds to s under (?i)
        assertEquals(List.of("it", "'\u017f"), pieces(p, "it'\u017f"));
    }

    @Test
    void newerUnicodeLettersAndNumbers() {
        Pattern p = RegexTranslator.compile(LLAMA3);
        // U+0870 (Unicode 14) is a letter, U+1E4F0.. (Nag Mundari digits, Unicode 15) are numbers
        assertEquals(List.of("a\u0870b"), pieces(p, "a\u0870b"));
        String fourDigits = new String(Character.toChars(0x1E4F0)).repeat(4);
        assertEquals(List.of(fourDigits.substring(0, 6), fourDigits.substring(6)), pieces(p, fourDigits));
    }

    @Test
    void rewritesOnigurumaSpecifics() {
        assertEquals("[\\P{Lu}]", RegexTranslator.translate("[\\p{^Lu}]"));
        assertEquals("[0-9a-fA-F]+[^0-9a-fA-F]", RegexTranslator.translate("\\h+\\H"));
        assertEquals("\\x0B", RegexTranslator.translate("\\v"));
        assertEquals("(?s:.)", RegexTranslator.translate("(?m:.)"));
        assertEquals("[\\p{Alpha}_\\P{Digit}]", RegexTranslator.translate("[[:alpha:]_[:^digit:]]"));
        assertTrue(RegexTranslator.translate("[^\\p{L}]").startsWith("[^\\p{L}\\x{870}"));
        assertTrue(RegexTranslator.translate("\\p{L}+").startsWith("[\\p{L}\\x{870}"));
        assertTrue(RegexTranslator.translate("\\P{N}").startsWith("[^\\p{N}\\x{10D40}"));
    }

    @Test
    void dotAndAnchorsFollowOniguruma() {
        Pattern p = RegexTranslator.compile("^a.$");
        assertTrue(p.matcher("x\nab\ny").find(), "^ and $ are line anchors");
        assertTrue(p.matcher("a\r").find(), ". matches \\r");
    }

    @Test
    void refusesWhatJavaCannotDo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RegexTranslator.compile("a\\Kb"));
        assertTrue(e.getMessage().contains("\\K"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RegexTranslator.compile("(?~abc)"));
        assertThrows(IllegalArgumentException.class, () -> RegexTranslator.compile("(unclosed"));
    }

    private static List<String> pieces(Pattern p, String text) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(text);
        int prev = 0;
        while (m.find()) {
            if (m.start() > prev) {
                out.add(text.substring(prev, m.start()));
            }
            out.add(m.group());
            prev = m.end();
        }
        if (prev < text.length()) {
            out.add(text.substring(prev));
        }
        return out;
    }
}
