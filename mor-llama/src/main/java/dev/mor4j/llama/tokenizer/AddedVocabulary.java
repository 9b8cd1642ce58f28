package dev.mor4j.llama.tokenizer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The added tokens of a tokenizer and the splitting of text around them, as the reference implementation
 * (HF {@code tokenizers} 0.23) builds them from {@code added_tokens}:
 * <ul>
 *   <li>ids are assigned in file order: the id of the content when the vocabulary already has it, otherwise the
 *       next id after the model vocabulary and the ids assigned so far (the {@code id} in the file is only
 *       checked, and a disagreement logged, as the reference does);</li>
 *   <li>matching is leftmost-longest over all tokens, then per token the {@code single_word}, {@code lstrip} and
 *       {@code rstrip} rules; tokens with {@code normalized: false} are matched in the raw text, the others, in
 *       their normalized form, in the normalized text;</li>
 *   <li>a normalized token decodes as its normalized form; the special-token set holds the contents as
 *       written.</li>
 * </ul>
 */
final class AddedVocabulary {

    private static final Logger LOG = LoggerFactory.getLogger(AddedVocabulary.class);
    private static final Pattern WORD_CHAR = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);

    /**
     * A piece of text: either a matched added token ({@code token != null}) or text for the model.
     *
     * @param start where it starts in the split text
     * @param end   where it ends in the split text
     */
    record Segment(String text, AddedToken token, boolean atOrigin, int start, int end) {
    }

    private final Map<String, AddedToken> byContent = new HashMap<>();
    private final Map<Integer, AddedToken> byId = new HashMap<>();
    private final Map<Integer, String> textById = new HashMap<>();
    private final Set<String> specialContents = new HashSet<>();
    private final Matcher rawMatcher;
    private final Matcher normalizedMatcher;

    AddedVocabulary(List<AddedToken> declared, BpeModel model, Normalizer normalizer, Path file) {
        Map<String, AddedToken> firstSpecial = new LinkedHashMap<>();
        for (AddedToken t : declared) {
            if (t.special() && !t.content().isEmpty()) {
                firstSpecial.putIfAbsent(t.content(), t);
            }
        }
        specialContents.addAll(firstSpecial.keySet());
        List<AddedToken> classic = new ArrayList<>();
        for (AddedToken t : declared) {
            if (t.content().isEmpty() || sameAsDeclared(byContent.get(t.content()), t)) {
                continue;
            }
            int id = idFor(t.content(), model);
            if (id != t.id()) {
                LOG.warn("{}: added token \"{}\" is declared with id {} but gets id {}, as in HF tokenizers",
                        file, t.content(), t.id(), id);
            }
            AddedToken assigned = new AddedToken(id, t.content(), t.special(), t.singleWord(), t.lstrip(),
                    t.rstrip(), t.normalized());
            byContent.put(t.content(), assigned);
            byId.put(id, assigned);
            textById.put(id, t.normalized() ? normalizer.normalize(t.content()) : t.content());
            if (!specialContents.contains(t.content())) {
                classic.add(assigned);
            }
        }
        List<AddedToken> ordered = new ArrayList<>(firstSpecial.values());
        ordered.addAll(classic);
        List<Matcher.Entry> raw = new ArrayList<>();
        List<Matcher.Entry> normalized = new ArrayList<>();
        for (AddedToken t : ordered) {
            AddedToken current = byId.get(byContent.get(t.content()).id()); // flags of the last declaration
            if (t.normalized()) {
                String pattern = normalizer.normalize(t.content());
                if (!pattern.isEmpty()) {
                    normalized.add(new Matcher.Entry(pattern, current));
                }
            } else {
                raw.add(new Matcher.Entry(t.content(), current));
            }
        }
        rawMatcher = new Matcher(raw);
        normalizedMatcher = new Matcher(normalized);
    }

    /** Whether an already added token has the same content and flags as a declaration (which is then skipped). */
    private static boolean sameAsDeclared(AddedToken added, AddedToken declared) {
        return added != null && added.content().equals(declared.content()) && added.special() == declared.special()
                && added.singleWord() == declared.singleWord() && added.lstrip() == declared.lstrip()
                && added.rstrip() == declared.rstrip() && added.normalized() == declared.normalized();
    }

    /**
     * The id of existing content (added before, or in the model vocabulary); otherwise the reference's next id:
     * the vocabulary size, or one past the largest added id when that is already beyond the vocabulary.
     */
    private int idFor(String content, BpeModel model) {
        AddedToken t = byContent.get(content);
        if (t != null) {
            return t.id();
        }
        Integer id = model.id(content);
        if (id != null) {
            return id;
        }
        int vocabSize = model.size();
        if (byContent.isEmpty()) {
            return vocabSize;
        }
        int max = byContent.values().stream().mapToInt(AddedToken::id).max().getAsInt();
        return max >= vocabSize || vocabSize == 0 ? max + 1 : vocabSize;
    }

    /** The added token with this content (as written in the file), or null. */
    AddedToken byContent(String content) {
        return byContent.get(content);
    }

    /** The token text of an added token id (normalized tokens: their normalized form), or null. */
    String text(int id) {
        return textById.get(id);
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
        return rawMatcher.split(text, 0, text.length(), true);
    }

    /**
     * The segments from {@code from} on that {@link #splitRaw} gives for {@code text.substring(0, to)}, provided
     * its split has a segment boundary at {@code from} (the end of an added token, or 0); offsets are in
     * {@code text}.
     */
    List<Segment> splitRaw(String text, int from, int to) {
        return rawMatcher.split(text, from, to, true);
    }

    /** Splits normalized text around the normalized added tokens; empty pieces are dropped. */
    List<Segment> splitNormalized(String text, boolean atOrigin) {
        return normalizedMatcher.split(text, 0, text.length(), atOrigin);
    }

    /** Leftmost-longest matching of a fixed set of strings. */
    private static final class Matcher {

        record Entry(String text, AddedToken token) {
        }

        /** Candidates by first UTF-16 unit, longest first (stable: earlier entries win ties). */
        private final Map<Character, List<Entry>> byFirstChar = new HashMap<>();

        Matcher(List<Entry> entries) {
            for (Entry e : entries) {
                byFirstChar.computeIfAbsent(e.text().charAt(0), k -> new ArrayList<>()).add(e);
            }
            for (List<Entry> list : byFirstChar.values()) {
                list.sort(Comparator.comparingInt((Entry e) -> e.text().length()).reversed());
            }
        }

        /** Splits {@code text[from, to)}, as if the text ended at {@code to}; matching starts at {@code from}. */
        List<Segment> split(String text, int from, int to, boolean atOrigin) {
            List<Segment> out = new ArrayList<>();
            int startOffset = from;
            int i = from;
            while (!byFirstChar.isEmpty() && i < to) {
                Entry match = longestAt(text, i, to);
                if (match == null) {
                    i++;
                    continue;
                }
                int start = i;
                int stop = i + match.text().length();
                i = stop; // matching resumes after the match itself, whatever stripping does below
                AddedToken token = match.token();
                if (token.singleWord() && !isSingleWord(text, start, stop, to)) {
                    continue;
                }
                if (token.lstrip()) {
                    start = Math.max(whitespaceStartBefore(text, start), startOffset);
                }
                if (token.rstrip()) {
                    stop = whitespaceEndAfter(text, stop, to);
                }
                if (startOffset < start) {
                    out.add(segment(text, startOffset, start, null, atOrigin));
                }
                out.add(segment(text, start, stop, token, atOrigin));
                startOffset = stop;
            }
            if (startOffset < to) {
                out.add(segment(text, startOffset, to, null, atOrigin));
            }
            return out;
        }

        private static Segment segment(String text, int start, int end, AddedToken token, boolean atOrigin) {
            return new Segment(text.substring(start, end), token, atOrigin && start == 0, start, end);
        }

        private Entry longestAt(String text, int i, int to) {
            List<Entry> candidates = byFirstChar.get(text.charAt(i));
            if (candidates != null) {
                for (Entry e : candidates) {
                    if (i + e.text().length() <= to && text.startsWith(e.text(), i)) {
                        return e;
                    }
                }
            }
            return null;
        }

        /** Neither the text before nor the text after the match continues a word (Unicode {@code \w}). */
        private static boolean isSingleWord(String text, int start, int stop, int to) {
            boolean before = start == 0 || !isWordChar(text.codePointBefore(start));
            boolean after = stop == to || !isWordChar(codePointAt(text, stop, to));
            return before && after;
        }

        /** The code point at {@code i} of {@code text[0, to)} (a high surrogate at {@code to - 1} stands alone). */
        private static int codePointAt(String text, int i, int to) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))) {
                return Character.toCodePoint(c, text.charAt(i + 1));
            }
            return c;
        }

        private static boolean isWordChar(int cp) {
            return WORD_CHAR.matcher(Character.toString(cp)).matches();
        }

        /** The Unicode White_Space property, as the reference's regex {@code \s}. */
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

        private static int whitespaceEndAfter(String text, int stop, int to) {
            int i = stop;
            while (i < to && isWhiteSpace(text.charAt(i))) { // every White_Space character is in the BMP
                i++;
            }
            return i;
        }
    }
}
