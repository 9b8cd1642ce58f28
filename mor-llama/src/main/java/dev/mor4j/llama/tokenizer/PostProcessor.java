package dev.mor4j.llama.tokenizer;

import java.util.List;

/**
 * A {@code post_processor} of a {@code tokenizer.json}: adds special tokens around an encoded sequence when the
 * caller asks for them. Only single sequences are encoded here; a template's {@code pair} part is not used.
 */
interface PostProcessor {

    /** Adds nothing (a {@code null} post-processor, or {@code ByteLevel}, which only adjusts offsets). */
    PostProcessor NONE = (encoding, addSpecialTokens) -> encoding;

    /** The final tokens of {@code encoding} ({@code addSpecialTokens} false: no special tokens are added). */
    TokenBuffer process(TokenBuffer encoding, boolean addSpecialTokens);

    /** {@code Sequence}: the post-processors one after the other. */
    record Sequence(List<PostProcessor> processors) implements PostProcessor {
        @Override
        public TokenBuffer process(TokenBuffer encoding, boolean addSpecialTokens) {
            TokenBuffer out = encoding;
            for (PostProcessor p : processors) {
                out = p.process(out, addSpecialTokens);
            }
            return out;
        }
    }

    /**
     * {@code TemplateProcessing}, single-sequence template: the sequence ({@code $A}) with special tokens before
     * and after it.
     *
     * @param before ids and tokens of the special tokens before {@code $A}
     * @param after  ids and tokens of the special tokens after {@code $A}
     */
    record Template(TokenBuffer before, TokenBuffer after) implements PostProcessor {
        @Override
        public TokenBuffer process(TokenBuffer encoding, boolean addSpecialTokens) {
            if (!addSpecialTokens) {
                return encoding;
            }
            TokenBuffer out = new TokenBuffer(before.size() + encoding.size() + after.size());
            out.addAll(before);
            out.addAll(encoding);
            out.addAll(after);
            return out;
        }
    }
}
