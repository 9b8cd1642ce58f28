package dev.mor4j.llama.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The added tokens of a tokenizer and the splitting of text around them. Matching follows the reference
 * implementation: leftmost-longest, non-overlapping matches of all tokens, then per token the
 * {@code single_word}, {@code lstrip} and {@code rstrip} rules. Tokens with {@code normalized: false} are matched in
 * the raw text, the others in the normalized text (against their normalized content).
 */
final class AddedVocabulary {

    /** A piece of text: either an added token or text for the model ({@code token == null}). */
    record Segment(String text, AddedToken token, boolean atOrigin) {
    }

    private final Map<String, AddedToken> byContent = new HashMap<>();
    private final Map<Integer, AddedToken> byId = new HashMap<>();
    private final Set<String> specialContents = new HashSet<>();
    private final Matcher rawMatcher;
    private final Matcher normalizedMatcher;

    AddedVocabulary(List<AddedToken> tokens, Normalizer normalizer) {
        List<Matcher.Entry> raw = new ArrayList<>();
        List<Matcher.Entry> normalized = new ArrayList<>();
        for (AddedToken token : tokens) {
            byContent.put(token.content(), token);
            byId.put(token.id(), token);
            if (token.special()) {
                specialContents.add(token.content());
            }
            if (token.content().isEmpty()) {
                continue;
            }
            if (token.normalized()) {
                normalized.add(new Matcher.Entry(normalizer.normalize(token.content()), token));
            } else {
                raw.add(new Matcher.Entry(token.content(), token));
            }
        }
        rawMatcher = new Matcher(raw);
        normalizedMatcher = new Matcher(normalized);
    }

    AddedToken byContent(String content) {
        return byContent.get(content);
    }

    AddedToken byId(int id) {
        return byId.get(id);
    }

    Iterable<AddedToken> all() {
        return byId.values();
    }

    /** Whether {@code token} is the content of a special added token. */
    boolean isSpecial(String token) {
        return specialContents.contains(token);
    }

    /** Splits raw text around the non-normalized added tokens; empty pieces are dropped. */
    List<Segment> splitRaw(String text) {
        return rawMatcher.split(text, true);
    }

    /** Splits normalized text around the normalized added tokens; empty pieces are dropped. */
    List<Segment> splitNormalized(String text, boolean atOrigin) {
        return normalizedMatcher.split(text, atOrigin);
    }

    /** Leftmost-longest matching of a fixed set of strings. */
    private static final class Matcher {

        record Entry(String text, AddedToken token) {
        }

        /** Candidates by first UTF-16 unit, longest first. */
        private final Map<Character, List<Entry>> byFirstChar = new HashMap<>();

        Matcher(List<Entry> entries) {
            for (Entry e : entries) {
                byFirstChar.computeIfAbsent(e.text().charAt(0), k -> new ArrayList<>()).add(e);
            }
            for (List<Entry> list : byFirstChar.values()) {
                list.sort(Comparator.comparingInt((Entry e) -> e.text().length()).reversed());
            }
        }

        List<Segment> split(String text, boolean atOrigin) {
            List<Segment> out = new ArrayList<>();
            if (byFirstChar.isEmpty()) {
                if (!text.isEmpty()) {
                    out.add(new Segment(text, null, atOrigin));
                }
                return out;
            }
            int startOffset = 0;
            int i = 0;
            while (i < text.length()) {
                Entry match = longestAt(text, i);
                if (match == null) {
                    i++;
                    continue;
                }
                int start = i;
                int stop = i + match.text().length();
                i = stop;
                AddedToken token = match.token();
                if (token.singleWord() && !(isWordBoundary(text, start, stop))) {
                    continue;
                }
                if (token.lstrip()) {
                    start = Math.max(whitespaceStartBefore(text, start), startOffset);
                }
                if (token.rstrip()) {
                    stop = whitespaceEndAfter(text, stop);
                }
                if (startOffset < start) {
                    out.add(new Segment(text.substring(startOffset, start), null, atOrigin && startOffset == 0));
                }
                out.add(new Segment(text.substring(start, stop), token, atOrigin && start == 0));
                startOffset = stop;
            }
            if (startOffset < text.length()) {
                out.add(new Segment(text.substring(startOffset), null, atOrigin && startOffset == 0));
            }
            return out;
        }

        private Entry longestAt(String text, int i) {
            List<Entry> candidates = byFirstChar.get(text.charAt(i));
            if (candidates != null) {
                for (Entry e : candidates) {
                    if (text.startsWith(e.text(), i)) {
                        return e;
                    }
                }
            }
            return null;
        }

        private static boolean isWordBoundary(String text, int start, int stop) {
            boolean before = start == 0 || !isWordChar(text.codePointBefore(start));
            boolean after = stop == text.length() || !isWordChar(text.codePointAt(stop));
            return before && after;
        }

        /** Rust's {@code char::is_alphanumeric() || c == '_'}. */
        private static boolean isWordChar(int cp) {
            if (cp == '_' || Character.isAlphabetic(cp)) {
                return true;
            }
            int type = Character.getType(cp);
            return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                    || type == Character.OTHER_NUMBER;
        }

        /** The Unicode White_Space property, as Rust's {@code char::is_whitespace}. */
        private static boolean isWhiteSpace(int cp) {
            return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                    || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                    || cp == 0x205F || cp == 0x3000;
        }

        private static int whitespaceStartBefore(String text, int start) {
            int i = start;
            while (i > 0 && isWhiteSpace(text.codePointBefore(i))) {
                i -= Character.charCount(text.codePointBefore(i));
            }
            return i;
        }

        private static int whitespaceEndAfter(String text, int stop) {
            int i = stop;
            while (i < text.length() && isWhiteSpace(text.codePointAt(i))) {
                i += Character.charCount(text.codePointAt(i));
            }
            return i;
        }
    }
}
