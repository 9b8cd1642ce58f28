package dev.mor4j.llama.tokenizer;

import java.util.List;

/**
 * The LLaMA-3 pre-tokenizer ({@code Split} on {@link Llama3Splitter#PATTERN}, isolated, then {@code ByteLevel}
 * without prefix space or regex) fused with the model's lookup: each pre-token is written as byte-level
 * characters into a reused buffer and handed to {@link BpeModel#tokenize(char[], int, TokenBuffer)}, without
 * building lists of pieces, substrings or byte arrays. The tokens are exactly those of the pre-tokenizer's
 * {@link PreTokenizer#preTokenize} followed by {@link BpeModel#tokenize(String, TokenBuffer)} on each piece.
 */
final class Llama3WordEncoder {

    private Llama3WordEncoder() {
    }

    /** Whether {@code preTokenizer} is the LLaMA-3 one that {@link #encode} computes. */
    static boolean handles(PreTokenizer preTokenizer) {
        if (!(preTokenizer instanceof PreTokenizer.Sequence sequence) || sequence.preTokenizers().size() != 2) {
            return false;
        }
        List<PreTokenizer> steps = sequence.preTokenizers();
        return steps.get(0) instanceof PreTokenizer.Split split && split.pattern().isLlama3Split()
                && split.behavior() == SplitBehavior.ISOLATED && !split.invert()
                && steps.get(1) instanceof ByteLevelPreTokenizer byteLevel && !byteLevel.addPrefixSpace()
                && !byteLevel.useRegex();
    }

    /** Appends the tokens of {@code text} (a piece between added tokens, normalized) to {@code out}. */
    static void encode(String text, BpeModel model, TokenBuffer out) {
        encode(text, 0, text.length(), model, out, null);
    }

    /**
     * Appends the tokens of {@code text[from, to)}, split as a text of its own.
     *
     * @param pieceEnds when not null, receives for each pre-token its end and the size of {@code out} after it
     */
    static void encode(String text, int from, int to, BpeModel model, TokenBuffer out, IntList pieceEnds) {
        char[] chars = new char[Math.min(to - from, 64) * 3];
        for (int at = from; at < to; ) {
            int end = Llama3Splitter.matchEnd(text, at, to);
            if ((end - at) * 3 > chars.length) {
                chars = new char[(end - at) * 3]; // UTF-8 has at most 3 bytes per UTF-16 unit
            }
            int n = 0;
            for (int i = at; i < end; ) {
                char c = text.charAt(i++);
                if (c < 0x80) {
                    chars[n++] = ByteLevelAlphabet.charOf(c);
                    continue;
                }
                int cp = c;
                if (Character.isSurrogate(c)) {
                    if (Character.isHighSurrogate(c) && i < end && Character.isLowSurrogate(text.charAt(i))) {
                        cp = Character.toCodePoint(c, text.charAt(i++));
                    } else {
                        cp = '?'; // as String.getBytes(UTF_8) writes a lone surrogate
                    }
                }
                n = appendUtf8(cp, chars, n);
            }
            model.tokenize(chars, n, out);
            if (pieceEnds != null) {
                pieceEnds.add(end);
                pieceEnds.add(out.size());
            }
            at = end;
        }
    }

    /** Writes the UTF-8 bytes of {@code cp} as byte-level characters at {@code n}; returns the new length. */
    private static int appendUtf8(int cp, char[] chars, int n) {
        if (cp < 0x80) {
            chars[n++] = ByteLevelAlphabet.charOf(cp);
        } else if (cp < 0x800) {
            chars[n++] = ByteLevelAlphabet.charOf(0xC0 | cp >> 6);
            chars[n++] = ByteLevelAlphabet.charOf(0x80 | cp & 0x3F);
        } else if (cp < 0x10000) {
            chars[n++] = ByteLevelAlphabet.charOf(0xE0 | cp >> 12);
            chars[n++] = ByteLevelAlphabet.charOf(0x80 | cp >> 6 & 0x3F);
            chars[n++] = ByteLevelAlphabet.charOf(0x80 | cp & 0x3F);
        } else {
            chars[n++] = ByteLevelAlphabet.charOf(0xF0 | cp >> 18);
            chars[n++] = ByteLevelAlphabet.charOf(0x80 | cp >> 12 & 0x3F);
            chars[n++] = ByteLevelAlphabet.charOf(0x80 | cp >> 6 & 0x3F);
            chars[n++] = ByteLevelAlphabet.charOf(0x80 | cp & 0x3F);
        }
        return n;
    }
}
