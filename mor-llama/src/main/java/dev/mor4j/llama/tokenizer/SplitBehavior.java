package dev.mor4j.llama.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * What a split does with the delimiters it finds (the {@code behavior} of a {@code Split} pre-tokenizer), with
 * the reference implementation's exact rules for runs of delimiters.
 */
enum SplitBehavior {
    /** Delimiters are dropped. */
    REMOVED,
    /** Each delimiter is a piece of its own. */
    ISOLATED,
    /** A delimiter joins the piece before it. */
    MERGED_WITH_PREVIOUS,
    /** A delimiter joins the piece after it. */
    MERGED_WITH_NEXT,
    /** Consecutive delimiters form one piece. */
    CONTIGUOUS;

    /** The behavior named in a {@code tokenizer.json} (e.g. {@code "Isolated"}), or null when unknown. */
    static SplitBehavior fromJson(String name) {
        return switch (name) {
            case "Removed" -> REMOVED;
            case "Isolated" -> ISOLATED;
            case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> MERGED_WITH_NEXT;
            case "Contiguous" -> CONTIGUOUS;
            default -> null;
        };
    }

    /**
     * Splits one piece at the given matches and appends the non-empty results to {@code out}.
     *
     * @param matches non-overlapping {@code [start, end)} matches, left to right
     * @param invert  whether the matches are the pieces to keep and the text between them the delimiters
     */
    void split(PreTokenizer.Piece piece, List<int[]> matches, boolean invert, List<PreTokenizer.Piece> out) {
        String text = piece.text();
        // (start, end, isDelimiter) spans covering the whole text
        List<int[]> spans = new ArrayList<>(matches.size() * 2 + 1);
        int prev = 0;
        for (int[] m : matches) {
            if (prev != m[0]) {
                spans.add(new int[] {prev, m[0], invert ? 1 : 0});
            }
            spans.add(new int[] {m[0], m[1], invert ? 0 : 1});
            prev = m[1];
        }
        if (prev != text.length() || text.isEmpty()) {
            spans.add(new int[] {prev, text.length(), invert ? 1 : 0});
        }
        for (int[] span : arrange(spans)) {
            if (span[1] > span[0]) {
                out.add(new PreTokenizer.Piece(text.substring(span[0], span[1]), piece.atOrigin() && span[0] == 0));
            }
        }
    }

    private List<int[]> arrange(List<int[]> spans) {
        List<int[]> out = new ArrayList<>(spans.size());
        boolean previousMatch = false;
        switch (this) {
            case ISOLATED -> out.addAll(spans);
            case REMOVED -> {
                for (int[] s : spans) {
                    if (s[2] == 0) {
                        out.add(s);
                    }
                }
            }
            case CONTIGUOUS -> {
                for (int[] s : spans) {
                    boolean isMatch = s[2] == 1;
                    if (isMatch == previousMatch && !out.isEmpty()) {
                        out.get(out.size() - 1)[1] = s[1];
                    } else {
                        out.add(s.clone());
                    }
                    previousMatch = isMatch;
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                for (int[] s : spans) {
                    boolean isMatch = s[2] == 1;
                    if (isMatch && !previousMatch && !out.isEmpty()) {
                        out.get(out.size() - 1)[1] = s[1];
                    } else {
                        out.add(s.clone());
                    }
                    previousMatch = isMatch;
                }
            }
            case MERGED_WITH_NEXT -> {
                for (int i = spans.size() - 1; i >= 0; i--) {
                    int[] s = spans.get(i);
                    boolean isMatch = s[2] == 1;
                    if (isMatch && !previousMatch && !out.isEmpty()) {
                        out.get(out.size() - 1)[0] = s[0];
                    } else {
                        out.add(s.clone());
                    }
                    previousMatch = isMatch;
                }
                java.util.Collections.reverse(out);
            }
            default -> throw new IllegalStateException(name());
        }
        return out;
    }
}
