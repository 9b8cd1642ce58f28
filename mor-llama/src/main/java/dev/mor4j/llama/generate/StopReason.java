package dev.mor4j.llama.generate;

/** Why generation ended. */
public enum StopReason {
    /** The model produced an end-of-sequence token (kept as the last generated id). */
    EOS,
    /** The requested number of new tokens was generated. */
    MAX_NEW_TOKENS,
    /** The sequence reached the model's {@code max_position_embeddings}. */
    MAX_POSITIONS
}
