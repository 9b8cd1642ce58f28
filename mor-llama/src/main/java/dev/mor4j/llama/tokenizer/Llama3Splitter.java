package dev.mor4j.llama.tokenizer;

/**
 * The LLaMA-3 pre-tokenizer regex, {@link #PATTERN}, matched by hand: {@link #matchEnd} gives what
 * {@link java.util.regex.Matcher#find()} of {@link RegexTranslator}'s translation gives, without the regex
 * engine (whose character classes, widened by {@link NewerUnicode}, are long unions tested one range after the
 * other). The alternatives, tried in order at each position as a backtracking engine does:
 * <ol>
 *   <li>{@code (?i:'s|'t|'re|'ve|'m|'ll|'d)}: a contraction, letters compared after Java's case folding
 *       ({@code toLowerCase(toUpperCase(c))}, so {@code 'ſ} matches);</li>
 *   <li>{@code [^\r\n\p{L}\p{N}]?\p{L}+}: a run of letters, with the one character before it when that is not a
 *       line break, letter or number;</li>
 *   <li>{@code \p{N}{1,3}}: one to three numbers;</li>
 *   <li>{@code ?[^\s\p{L}\p{N}]+[\r\n]*}: an optional space, a run of other characters and the line breaks after
 *       it;</li>
 *   <li>{@code \s*[\r\n]+}: whitespace through its last line break;</li>
 *   <li>{@code \s+(?!\S)}: whitespace, less its last character when something follows;</li>
 *   <li>{@code \s+}: whitespace.</li>
 * </ol>
 * Every character starts a match of one of them, so the matches tile the text.
 */
final class Llama3Splitter {

    /** The {@code Split} regex of the LLaMA-3 {@code tokenizer.json}, as written there. */
    static final String PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
            + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final String[] CONTRACTIONS = {"s", "t", "re", "ve", "m", "ll", "d"};

    private Llama3Splitter() {
    }

    /**
     * The end of the match that starts at {@code from} in {@code text[0, to)}, where the previous match ended.
     *
     * @param from a position before {@code to}
     */
    static int matchEnd(CharSequence text, int from, int to) {
        int c = codePointAt(text, from, to);
        int next = from + Character.charCount(c);
        byte cls = CharClasses.of(c);
        if (c == '\'') {
            int end = contractionEnd(text, next, to);
            if (end > 0) {
                return end;
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (cls == CharClasses.LETTER) {
            return letterRunEnd(text, next, to);
        }
        if (cls != CharClasses.NUMBER && c != '\r' && c != '\n' && next < to
                && CharClasses.isLetter(codePointAt(text, next, to))) {
            return letterRunEnd(text, next, to);
        }
        // \p{N}{1,3}
        if (cls == CharClasses.NUMBER) {
            int end = next;
            for (int k = 1; k < 3 && end < to; k++) {
                int d = codePointAt(text, end, to);
                if (!CharClasses.isNumber(d)) {
                    break;
                }
                end += Character.charCount(d);
            }
            return end;
        }
        // " ?[^\s\p{L}\p{N}]+[\r\n]*"
        if (cls == 0) {
            return lineBreaksEnd(text, otherRunEnd(text, next, to), to);
        }
        if (c == ' ' && next < to && CharClasses.of(codePointAt(text, next, to)) == 0) {
            return lineBreaksEnd(text, otherRunEnd(text, next, to), to);
        }
        // cls == SPACE: the whitespace run [from, runEnd); every whitespace character is one UTF-16 unit
        int runEnd = next;
        int lastBreak = c == '\r' || c == '\n' ? from : -1;
        while (runEnd < to && CharClasses.isSpace(text.charAt(runEnd))) {
            char w = text.charAt(runEnd);
            if (w == '\r' || w == '\n') {
                lastBreak = runEnd;
            }
            runEnd++;
        }
        if (lastBreak >= 0) {
            return lastBreak + 1; // \s*[\r\n]+
        }
        if (runEnd == to || runEnd - from == 1) {
            return runEnd; // \s+(?!\S) at the end of the text, or \s+
        }
        return runEnd - 1; // \s+(?!\S) gives back its last character
    }

    /**
     * A bound on what {@link #matchEnd} looked at to find the match {@code [from, end)} of {@code text[0, to)}:
     * the match is the same in any text that agrees with this one before the bound, ending there or going on
     * ({@code to + 1} when the end of the text was looked at). Past the match it looks at one more code point,
     * at the whole whitespace run when the match starts with whitespace, and at up to three characters after an
     * apostrophe; the bound allows for all of these.
     */
    static int readEnd(CharSequence text, int from, int end, int to) {
        int read = end + 2;
        char first = text.charAt(from);
        if (first == '\'') {
            read = Math.max(read, from + 5);
        } else if (CharClasses.isSpace(first)) {
            int runEnd = from + 1;
            while (runEnd < to && CharClasses.isSpace(text.charAt(runEnd))) {
                runEnd++;
            }
            read = Math.max(read, runEnd + 2);
        }
        return read > to ? to + 1 : read;
    }

    /** The end of {@code 's|'t|'re|'ve|'m|'ll|'d} whose apostrophe ends at {@code at}, or -1. */
    private static int contractionEnd(CharSequence text, int at, int to) {
        for (String tail : CONTRACTIONS) {
            int i = at;
            boolean match = true;
            for (int k = 0; k < tail.length(); k++) {
                if (i >= to) {
                    match = false;
                    break;
                }
                int c = codePointAt(text, i, to);
                if (c != tail.charAt(k) && Character.toLowerCase(Character.toUpperCase(c)) != tail.charAt(k)) {
                    match = false;
                    break;
                }
                i += Character.charCount(c);
            }
            if (match) {
                return i;
            }
        }
        return -1;
    }

    private static int letterRunEnd(CharSequence text, int i, int to) {
        while (i < to) {
            int c = codePointAt(text, i, to);
            if (!CharClasses.isLetter(c)) {
                break;
            }
            i += Character.charCount(c);
        }
        return i;
    }

    /** The end of a run of characters in none of the classes (not whitespace, letter or number). */
    private static int otherRunEnd(CharSequence text, int i, int to) {
        while (i < to) {
            int c = codePointAt(text, i, to);
            if (CharClasses.of(c) != 0) {
                break;
            }
            i += Character.charCount(c);
        }
        return i;
    }

    private static int lineBreaksEnd(CharSequence text, int i, int to) {
        while (i < to && (text.charAt(i) == '\r' || text.charAt(i) == '\n')) {
            i++;
        }
        return i;
    }

    /** The code point at {@code i} of {@code text[0, to)}; a lone surrogate is a code point of its own. */
    private static int codePointAt(CharSequence text, int i, int to) {
        char c = text.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < to) {
            char d = text.charAt(i + 1);
            if (Character.isLowSurrogate(d)) {
                return Character.toCodePoint(c, d);
            }
        }
        return c;
    }
}
