package dev.mor4j.llama.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code ByteLevel} pre-tokenizer of GPT-2-style byte-level BPE: optionally prepends a space, optionally
 * splits with the GPT-2 regex, then writes every UTF-8 byte of each piece as its {@link ByteLevelAlphabet}
 * character (so {@code " world"} becomes {@code "Ġworld"}).
 *
 * @param addPrefixSpace whether a piece not starting with a space gets one
 * @param useRegex       whether to split with the GPT-2 regex (LLaMA-3 splits with its own {@code Split} first and
 *                       turns this off)
 */
record ByteLevelPreTokenizer(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {

    /** The GPT-2 pre-tokenization regex, as in the reference implementation. */
    private static final TextPattern GPT2 = TextPattern.regex(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    @Override
    public List<Piece> preTokenize(List<Piece> pieces) {
        List<Piece> split = pieces;
        if (addPrefixSpace || useRegex) {
            split = new ArrayList<>(pieces.size() * 4);
            for (Piece piece : pieces) {
                Piece p = addPrefixSpace && !piece.text().startsWith(" ")
                        ? new Piece(" " + piece.text(), piece.atOrigin()) : piece;
                if (useRegex) {
                    SplitBehavior.ISOLATED.split(p, GPT2.matches(p.text()), false, split);
                } else {
                    split.add(p);
                }
            }
        }
        List<Piece> out = new ArrayList<>(split.size());
        for (Piece piece : split) {
            out.add(new Piece(ByteLevelAlphabet.encode(piece.text()), piece.atOrigin()));
        }
        return out;
    }
}
