package dev.mor4j.llama.generate;

/**
 * The outcome of one generation.
 *
 * @param promptIds   the prompt's token ids, BOS included
 * @param tokenIds    the generated ids, in order; ends with the EOS id when {@code stopReason} is EOS
 * @param text        the generated ids decoded, special tokens (EOS) left out; empty without a tokenizer
 * @param stopReason  why generation ended
 * @param prefillNanos wall time of the prompt's pass (which gives the first token's logits)
 * @param decodeNanos  wall time from the first token's choice to the end: the passes that feed each generated
 *                     token but the last (one per further token), with the sampling
 */
public record GenerationResult(int[] promptIds, int[] tokenIds, String text, StopReason stopReason,
        long prefillNanos, long decodeNanos) {

    /** Milliseconds per further token ({@code decodeNanos} over the passes; NaN when one token was generated). */
    public double decodeMillisPerToken() {
        int passes = tokenIds.length - 1;
        return passes <= 0 ? Double.NaN : decodeNanos / 1e6 / passes;
    }
}
