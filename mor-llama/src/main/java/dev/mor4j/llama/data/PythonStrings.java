package dev.mor4j.llama.data;

/**
 * Python's {@code str.strip()} with no argument, which open-instruct applies to message contents and to the whole
 * example text. It removes the characters for which {@code str.isspace()} is true; Java's {@link String#strip()}
 * disagrees on some of them (it keeps U+0085, U+00A0, U+2007 and U+202F).
 */
final class PythonStrings {

    private PythonStrings() {
    }

    static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    /** Python's {@code str.isspace()} for one character (all such characters are in the BMP). */
    static boolean isSpace(char c) {
        return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }
}
