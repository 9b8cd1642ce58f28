package dev.mor4j.llama.tokenizer;

import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Translates the regular expressions found in {@code tokenizer.json} files (written for Oniguruma, which the
 * HF {@code tokenizers} library uses) into {@link java.util.regex.Pattern}s that match the same text.
 *
 * <p>Both engines are backtracking, leftmost-first engines with the same syntax for what tokenizer regexes use
 * (classes, {@code \p{L}}/{@code \p{N}}, lookahead, possessive and lazy quantifiers, {@code (?i:...)}). The
 * differences handled here:
 * <ul>
 *   <li>Oniguruma's {@code \s}, {@code \w}, {@code \d}, {@code \b} and case folding are Unicode-aware on UTF-8 text;
 *       Java's are ASCII-only unless {@link Pattern#UNICODE_CHARACTER_CLASS} and {@link Pattern#UNICODE_CASE} are
 *       set (they are). With them Java's {@code \s} is the Unicode White_Space property, which is exactly
 *       Oniguruma's set (U+0009–U+000D, U+0085, Zs, Zl, Zp).</li>
 *   <li>{@code ^}/{@code $} are line anchors and {@code .} stops only at {@code \n} in Oniguruma: compiled with
 *       {@link Pattern#MULTILINE} and {@link Pattern#UNIX_LINES}; Oniguruma's option {@code m} (dot matches
 *       newline) becomes Java's {@code s}.</li>
 *   <li>Java 17's Unicode tables are at version 13.0, the reference's at 16.0: {@code \p{L}} and {@code \p{N}}
 *       are widened by the letters and numbers assigned since ({@link NewerUnicode}).</li>
 *   <li>{@code \h}/{@code \H} (hex digit), {@code \v} (vertical tab only), {@code \p{^X}} (negated property) and
 *       POSIX brackets such as {@code [:alpha:]} are rewritten.</li>
 *   <li>Constructs with no Java equivalent ({@code \K}, {@code \g<...>} subexpression calls, {@code \y}, {@code \Y},
 *       {@code \O}, absent operator {@code (?~...)}) are refused.</li>
 * </ul>
 */
final class RegexTranslator {

    static final int FLAGS = Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE | Pattern.MULTILINE
            | Pattern.UNIX_LINES;

    /** POSIX bracket classes as class-body fragments: {positive, negated}. */
    private static final Map<String, String[]> POSIX = Map.ofEntries(
            posix("alnum", "\\p{Alnum}", "\\P{Alnum}"), posix("alpha", "\\p{Alpha}", "\\P{Alpha}"),
            posix("ascii", "\\p{ASCII}", "\\P{ASCII}"), posix("blank", "\\p{Blank}", "\\P{Blank}"),
            posix("cntrl", "\\p{Cntrl}", "\\P{Cntrl}"), posix("digit", "\\p{Digit}", "\\P{Digit}"),
            posix("graph", "\\p{Graph}", "\\P{Graph}"), posix("lower", "\\p{Lower}", "\\P{Lower}"),
            posix("print", "\\p{Print}", "\\P{Print}"), posix("punct", "\\p{Punct}", "\\P{Punct}"),
            posix("space", "\\s", "\\S"), posix("upper", "\\p{Upper}", "\\P{Upper}"),
            posix("word", "\\w", "\\W"),
            posix("xdigit", "0-9a-fA-F", "\\x00-\\x2F\\x3A-\\x40\\x47-\\x60\\x67-\\x{10FFFF}"));

    private static Map.Entry<String, String[]> posix(String name, String positive, String negated) {
        return Map.entry(name, new String[] {positive, negated});
    }

    private RegexTranslator() {
    }

    /**
     * Compiles an Oniguruma regex as a Java pattern.
     *
     * @throws IllegalArgumentException naming the construct that cannot be translated or the syntax error
     */
    static Pattern compile(String onig) {
        String java = translate(onig);
        try {
            return Pattern.compile(java, FLAGS);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("regex " + quote(onig) + " is not valid: " + e.getDescription()
                    + " near index " + e.getIndex());
        }
    }

    /** The Java spelling of an Oniguruma regex (without the flags of {@link #FLAGS}). */
    static String translate(String onig) {
        StringBuilder out = new StringBuilder(onig.length() + 16);
        int classDepth = 0;
        int i = 0;
        while (i < onig.length()) {
            char c = onig.charAt(i);
            if (c == '\\') {
                if (i + 1 >= onig.length()) {
                    throw new IllegalArgumentException("regex " + quote(onig) + " ends with a lone backslash");
                }
                i = translateEscape(onig, i, classDepth > 0, out);
                continue;
            }
            if (classDepth > 0 && c == '[' && onig.startsWith("[:", i)) {
                int end = onig.indexOf(":]", i + 2);
                if (end > 0) {
                    boolean negated = onig.charAt(i + 2) == '^';
                    String name = onig.substring(i + (negated ? 3 : 2), end);
                    String[] set = POSIX.get(name);
                    if (set == null) {
                        throw new IllegalArgumentException("regex " + quote(onig) + " uses unknown POSIX class [:"
                                + name + ":]");
                    }
                    out.append(set[negated ? 1 : 0]);
                    i = end + 2;
                    continue;
                }
            }
            if (c == '[') {
                classDepth++;
                out.append(c);
                // a ']' right after '[' or '[^' is a literal in both engines
                if (onig.startsWith("^]", i + 1)) {
                    out.append("^\\]");
                    i += 3;
                    continue;
                }
                if (onig.startsWith("]", i + 1)) {
                    out.append("\\]");
                    i += 2;
                    continue;
                }
                i++;
                continue;
            }
            if (c == ']' && classDepth > 0) {
                classDepth--;
            } else if (c == '(' && classDepth == 0 && onig.startsWith("(?", i)) {
                i = translateGroupOptions(onig, i, out);
                continue;
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }

    private static int translateEscape(String onig, int i, boolean inClass, StringBuilder out) {
        char e = onig.charAt(i + 1);
        switch (e) {
            case 'h' -> out.append(inClass ? "0-9a-fA-F" : "[0-9a-fA-F]");
            case 'H' -> out.append("[^0-9a-fA-F]");
            case 'v' -> out.append("\\x0B");
            case 'p', 'P' -> {
                boolean negated = e == 'P';
                int name = i + 3;
                if (onig.startsWith("{^", i + 2)) {
                    negated = !negated;
                    name = i + 4;
                }
                int close = onig.indexOf('}', name);
                if (onig.charAt(i + 2) != '{' || close < 0) {
                    out.append('\\').append(e); // let Java report the syntax error
                    return i + 2;
                }
                appendProperty(onig.substring(name, close), negated, inClass, out);
                return close + 1;
            }
            case 'K', 'g', 'y', 'Y', 'O' -> throw new IllegalArgumentException("regex " + quote(onig)
                    + " uses \\" + e + ", which java.util.regex has no equivalent for");
            default -> out.append('\\').append(e);
        }
        return i + 2;
    }

    /**
     * Appends a Unicode property class. {@code L} and {@code N} are widened by the letters and numbers of newer
     * Unicode versions ({@link NewerUnicode}), spliced into the enclosing class or wrapped in a class of their own.
     */
    private static void appendProperty(String name, boolean negated, boolean inClass, StringBuilder out) {
        String newer = switch (name) {
            case "L" -> NewerUnicode.LETTERS;
            case "N" -> NewerUnicode.NUMBERS;
            default -> null;
        };
        String property = "\\p{" + name + "}";
        if (newer == null) {
            out.append(negated ? "\\P{" + name + "}" : property);
        } else if (negated) {
            out.append("[^").append(property).append(newer).append(']');
        } else if (inClass) {
            out.append(property).append(newer);
        } else {
            out.append('[').append(property).append(newer).append(']');
        }
    }

    /** Rewrites the option letters of {@code (?imx-imx)} / {@code (?imx-imx:...)}; other groups pass through. */
    private static int translateGroupOptions(String onig, int i, StringBuilder out) {
        if (onig.startsWith("(?~", i)) {
            throw new IllegalArgumentException("regex " + quote(onig) + " uses the absent operator (?~...), "
                    + "which java.util.regex has no equivalent for");
        }
        int j = i + 2;
        while (j < onig.length() && "imx-".indexOf(onig.charAt(j)) >= 0) {
            j++;
        }
        boolean optionGroup = j > i + 2 && j < onig.length() && (onig.charAt(j) == ')' || onig.charAt(j) == ':');
        if (!optionGroup) {
            out.append("(?");
            return i + 2;
        }
        out.append("(?").append(onig.substring(i + 2, j).replace('m', 's'));
        return j;
    }

    private static String quote(String regex) {
        return "\"" + regex + "\"";
    }
}
