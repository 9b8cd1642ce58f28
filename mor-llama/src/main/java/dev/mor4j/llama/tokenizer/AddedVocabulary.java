package dev.mor4j.llama.tokenizer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
    private final AddedTokenMatcher rawMatcher;
    private final AddedTokenMatcher normalizedMatcher;

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
        List<AddedTokenMatcher.Entry> raw = new ArrayList<>();
        List<AddedTokenMatcher.Entry> normalized = new ArrayList<>();
        for (AddedToken t : ordered) {
            AddedToken current = byId.get(byContent.get(t.content()).id()); // flags of the last declaration
            if (t.normalized()) {
                String pattern = normalizer.normalize(t.content());
                if (!pattern.isEmpty()) {
                    normalized.add(new AddedTokenMatcher.Entry(pattern, current));
                }
            } else {
                raw.add(new AddedTokenMatcher.Entry(t.content(), current));
            }
        }
        rawMatcher = new AddedTokenMatcher(raw);
        normalizedMatcher = new AddedTokenMatcher(normalized);
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

    /** Whether every match of a raw added token is kept ({@link AddedTokenMatcher#keepsEveryMatch()}). */
    boolean keepsEveryRawMatch() {
        return rawMatcher.keepsEveryMatch();
    }

    /** Whether some added tokens are matched in normalized text. */
    boolean hasNormalizedTokens() {
        return !normalizedMatcher.isEmpty();
    }

    /** Splits normalized text around the normalized added tokens; empty pieces are dropped. */
    List<Segment> splitNormalized(String text, boolean atOrigin) {
        return normalizedMatcher.split(text, 0, text.length(), atOrigin);
    }
}
