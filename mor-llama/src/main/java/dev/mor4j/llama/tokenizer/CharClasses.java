package dev.mor4j.llama.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The character classes of tokenizer regexes as {@link RegexTranslator}'s patterns define them, for every code
 * point, in one table: {@code \p{L}} (Java's letters, general category L, widened by {@link NewerUnicode#LETTERS}),
 * {@code \p{N}} (category N, widened by {@link NewerUnicode#NUMBERS}) and {@code \s} (Java's
 * {@code UNICODE_CHARACTER_CLASS} whitespace: the White_Space property). A lone surrogate is a code point of its
 * own, in none of the classes, as in {@link java.util.regex}.
 */
final class CharClasses {

    static final byte LETTER = 1;
    static final byte NUMBER = 2;
    static final byte SPACE = 4;

    private static final byte[] CLASSES = new byte[Character.MAX_CODE_POINT + 1];

    static {
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            int type = Character.getType(cp);
            byte c = 0;
            if (type == Character.UPPERCASE_LETTER || type == Character.LOWERCASE_LETTER
                    || type == Character.TITLECASE_LETTER || type == Character.MODIFIER_LETTER
                    || type == Character.OTHER_LETTER) {
                c = LETTER;
            } else if (type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                    || type == Character.OTHER_NUMBER) {
                c = NUMBER;
            } else if (type == Character.SPACE_SEPARATOR || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85) {
                c = SPACE;
            }
            CLASSES[cp] = c;
        }
        mark(NewerUnicode.LETTERS, LETTER);
        mark(NewerUnicode.NUMBERS, NUMBER);
    }

    private CharClasses() {
    }

    /** The classes of a code point: {@link #LETTER}, {@link #NUMBER}, {@link #SPACE} or 0 (none of them). */
    static byte of(int codePoint) {
        return CLASSES[codePoint];
    }

    static boolean isLetter(int codePoint) {
        return CLASSES[codePoint] == LETTER;
    }

    static boolean isNumber(int codePoint) {
        return CLASSES[codePoint] == NUMBER;
    }

    static boolean isSpace(int codePoint) {
        return CLASSES[codePoint] == SPACE;
    }

    /** Sets the class of the code points of regex class-body ranges such as {@code \x{870}-\x{887}\x{889}}. */
    private static void mark(String ranges, byte c) {
        Matcher m = Pattern.compile("\\\\x\\{([0-9A-Fa-f]+)}(?:-\\\\x\\{([0-9A-Fa-f]+)})?").matcher(ranges);
        int at = 0;
        while (m.find()) {
            if (m.start() != at) {
                throw new IllegalStateException("unexpected text in ranges at " + at + ": " + ranges);
            }
            int from = Integer.parseInt(m.group(1), 16);
            int to = m.group(2) == null ? from : Integer.parseInt(m.group(2), 16);
            for (int cp = from; cp <= to; cp++) {
                CLASSES[cp] = c;
            }
            at = m.end();
        }
        if (at != ranges.length()) {
            throw new IllegalStateException("unexpected text in ranges at " + at + ": " + ranges);
        }
    }
}
