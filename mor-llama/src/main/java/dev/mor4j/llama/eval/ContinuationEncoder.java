package dev.mor4j.llama.eval;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Tokenizes a (context, continuation) pair the way lm-evaluation-harness's {@code _encode_pair} does: white
 * space at the end of the context is moved to the front of the continuation; then the context and the
 * context + continuation are tokenized, and the continuation's tokens are those of the whole beyond the
 * context's token count. The model input is the context's tokens followed by those continuation tokens (which,
 * when BPE merges across the boundary, is not exactly the tokenization of the whole text, as in the harness).
 *
 * <p>With {@code addBos} (the default for LLaMA models here), BOS is put in front of both tokenizations, as a
 * tokenizer with a BOS post-processor does; the harness's default for Hugging Face models is not to add it
 * ({@code add_bos_token=False}). An empty context becomes the BOS token alone, as in the harness.
 */
public final class ContinuationEncoder {

    /** Context and continuation tokens. */
    public record Encoded(int[] context, int[] continuation) {

        /** Context followed by continuation, scored from the first continuation token. */
        public TokenScorer.Span span() {
            int[] all = Arrays.copyOf(context, context.length + continuation.length);
            System.arraycopy(continuation, 0, all, context.length, continuation.length);
            return new TokenScorer.Span(all, context.length);
        }
    }

    private final Tokenizer tokenizer;
    private final boolean addBos;
    private final int bos;

    /**
     * @param addBos put BOS in front of every context
     * @throws MorException when the tokenizer has no BOS token (it is needed for empty contexts, and with addBos)
     */
    public ContinuationEncoder(Tokenizer tokenizer, boolean addBos) {
        this.tokenizer = tokenizer;
        this.addBos = addBos;
        this.bos = tokenizer.requireBosId("it goes in front of empty contexts, and of every context with addBos");
    }

    public boolean addsBos() {
        return addBos;
    }

    /**
     * @throws MorException when the continuation adds no token
     */
    public Encoded encode(String context, String continuation) {
        int keep = context.length();
        while (keep > 0 && isPythonSpace(context.charAt(keep - 1))) {
            keep--;
        }
        if (keep < context.length()) {
            continuation = context.substring(keep) + continuation;
            context = context.substring(0, keep);
        }
        int[] whole = tokens(context + continuation);
        int[] ctx = tokens(context);
        if (whole.length <= ctx.length) {
            throw new MorException("the continuation \"" + continuation + "\" adds no token to its context");
        }
        int[] cont = Arrays.copyOfRange(whole, ctx.length, whole.length);
        if (ctx.length == 0) {
            ctx = new int[] {bos};
        }
        return new Encoded(ctx, cont);
    }

    /** Python's {@code str.isspace} for one character (what {@code rstrip()} removes). */
    private static boolean isPythonSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    private int[] tokens(String text) {
        int[] ids = tokenizer.encode(text, false);
        if (!addBos) {
            return ids;
        }
        int[] out = new int[ids.length + 1];
        out[0] = bos;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }
}
