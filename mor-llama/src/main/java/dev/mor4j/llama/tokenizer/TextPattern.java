package dev.mor4j.llama.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code pattern} of a {@code Split} pre-tokenizer or a {@code Replace} normalizer/decoder: a literal string
 * ({@code {"String": ...}}) or a regex ({@code {"Regex": ...}}, translated by {@link RegexTranslator}).
 */
final class TextPattern {

    private final String literal;
    private final Pattern regex;

    private TextPattern(String literal, Pattern regex) {
        this.literal = literal;
        this.regex = regex;
    }

    static TextPattern literal(String text) {
        return new TextPattern(text, null);
    }

    static TextPattern regex(String onigRegex) {
        return new TextPattern(null, RegexTranslator.compile(onigRegex));
    }

    /**
     * The non-overlapping matches in {@code text}, left to right, each as {@code [start, end)}.
     */
    List<int[]> matches(String text) {
        List<int[]> out = new ArrayList<>();
        if (regex != null) {
            Matcher m = regex.matcher(text);
            while (m.find()) {
                out.add(new int[] {m.start(), m.end()});
            }
        } else if (!literal.isEmpty()) {
            int from = 0;
            int at;
            while ((at = text.indexOf(literal, from)) >= 0) {
                out.add(new int[] {at, at + literal.length()});
                from = at + literal.length();
            }
        }
        return out;
    }

    /** {@code text} with every match replaced by {@code replacement} (taken literally). */
    String replaceAll(String text, String replacement) {
        if (regex != null) {
            return regex.matcher(text).replaceAll(Matcher.quoteReplacement(replacement));
        }
        return literal.isEmpty() ? text : text.replace(literal, replacement);
    }
}
