package dev.mor4j.llama.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code Metaspace} pre-tokenizer of SentencePiece-style tokenizers: replaces every space with the
 * replacement character ({@code ▁}), prepends one as {@code prepend_scheme} says, and optionally splits so that
 * each {@code ▁} starts a new piece.
 *
 * @param replacement   the space marker, normally {@code ▁}
 * @param prependScheme when to prepend the marker to a piece that does not start with it
 * @param split         whether to split before every marker
 */
record MetaspacePreTokenizer(String replacement, PrependScheme prependScheme, boolean split)
        implements PreTokenizer {

    /** When the Metaspace pre-tokenizer and decoder add (and remove) a leading marker. */
    enum PrependScheme {
        /** Every piece. */
        ALWAYS,
        /** Only the piece at the very start of the input. */
        FIRST,
        /** Never. */
        NEVER;

        static PrependScheme fromJson(String name) {
            return switch (name) {
                case "always" -> ALWAYS;
                case "first" -> FIRST;
                case "never" -> NEVER;
                default -> null;
            };
        }
    }

    @Override
    public List<Piece> preTokenize(List<Piece> pieces) {
        List<Piece> out = new ArrayList<>(pieces.size() * 4);
        for (Piece piece : pieces) {
            String text = piece.text().replace(" ", replacement);
            boolean prepend = switch (prependScheme) {
                case ALWAYS -> !text.startsWith(replacement);
                case FIRST -> !text.startsWith(replacement) && piece.atOrigin();
                case NEVER -> false;
            };
            if (prepend) {
                text = replacement + text;
            }
            Piece replaced = new Piece(text, piece.atOrigin());
            if (split) {
                SplitBehavior.MERGED_WITH_NEXT.split(replaced, TextPattern.literal(replacement).matches(text), false,
                        out);
            } else if (!text.isEmpty()) {
                out.add(replaced);
            }
        }
        return out;
    }
}
