package dev.mor4j.llama.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code pre_tokenizer} of a {@code tokenizer.json}: splits normalized text into pre-tokens (and may rewrite
 * them, as byte-level does), each of which the model tokenizes on its own. Empty pre-tokens are dropped.
 */
interface PreTokenizer {

    /**
     * A pre-token.
     *
     * @param text     its text
     * @param atOrigin whether it starts at offset 0 of the original input (needed by Metaspace's
     *                 {@code prepend_scheme: "first"})
     */
    record Piece(String text, boolean atOrigin) {
    }

    /** Leaves the text whole (a {@code null} pre-tokenizer). */
    PreTokenizer NONE = pieces -> pieces;

    /** Splits or rewrites every piece; returns the new pieces in order, none of them empty. */
    List<Piece> preTokenize(List<Piece> pieces);

    /** {@code Sequence}: the pre-tokenizers one after the other. */
    record Sequence(List<PreTokenizer> preTokenizers) implements PreTokenizer {
        @Override
        public List<Piece> preTokenize(List<Piece> pieces) {
            List<Piece> out = pieces;
            for (PreTokenizer p : preTokenizers) {
                out = p.preTokenize(out);
            }
            return out;
        }
    }

    /** {@code Split}: splits on the matches of a pattern, keeping the matches as {@code behavior} says. */
    record Split(TextPattern pattern, SplitBehavior behavior, boolean invert) implements PreTokenizer {
        @Override
        public List<Piece> preTokenize(List<Piece> pieces) {
            List<Piece> out = new ArrayList<>(pieces.size() * 4);
            for (Piece piece : pieces) {
                behavior.split(piece, pattern.matches(piece.text()), invert, out);
            }
            return out;
        }
    }
}
