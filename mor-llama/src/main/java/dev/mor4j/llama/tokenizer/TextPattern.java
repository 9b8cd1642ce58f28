package dev.mor4j.llama.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code pattern} of a {@code Split} pre-tokenizer or a {@code Replace} normalizer/decoder: a literal string
 * ({@code {"String": ...}}) or a regex ({@code {"Regex": ...}}, translated by {@link RegexTranslator}). The
 * LLaMA-3 split regex is matched by {@link Llama3Splitter}, which finds the same matches.
 */
final class TextPattern {

    private final String literal;
    private final Pattern regex;
    private final boolean llama3;

    private TextPattern(String literal, Pattern regex, boolean llama3) {
        this.literal = literal;
        this.regex = regex;
        this.llama3 = llama3;
    }

    static TextPattern literal(String text) {
        return new TextPattern(text, null, false);
    }

    static TextPattern regex(String onigRegex) {
        return new TextPattern(null, RegexTranslator.compile(onigRegex), onigRegex.equals(Llama3Splitter.PATTERN));
    }

    /** A regex matched by {@link java.util.regex} only, even the LLaMA-3 split regex (to compare with it). */
    static TextPattern javaRegex(String onigRegex) {
        return new TextPattern(null, RegexTranslator.compile(onigRegex), false);
    }

    /** Whether this is the LLaMA-3 split regex, whose matches tile any text ({@link Llama3Splitter}). */
    boolean isLlama3Split() {
        return llama3;
    }

    /**
     * The non-overlapping matches in {@code text}, left to right, each as {@code [start, end)}.
     */
    List<int[]> matches(String text) {
        List<int[]> out = new ArrayList<>();
        if (llama3) {
            for (int at = 0; at < text.length(); ) {
                int end = Llama3Splitter.matchEnd(text, at, text.length());
                out.add(new int[] {at, end});
                at = end;
            }
        } else if (regex != null) {
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
