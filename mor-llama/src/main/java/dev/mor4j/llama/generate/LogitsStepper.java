package dev.mor4j.llama.generate;

/**
 * One sequence fed to a language model a token at a time, giving the next-token logits after each.
 * A stepper holds the state of one sequence at a time; {@link #start} begins a new one.
 */
public interface LogitsStepper {

    /**
     * Begins a sequence.
     *
     * @param promptIds at least one token id
     * @return the logits {@code [V]} that predict the token after the prompt
     */
    float[] start(int[] promptIds);

    /**
     * Begins a sequence expected to reach {@code expectedLength} tokens, so that a stepper can make room for them
     * at once; it may still grow longer. By default the same as {@link #start(int[])}.
     *
     * @param promptIds      at least one token id
     * @param expectedLength the most tokens the sequence is expected to reach, the prompt included
     * @return the logits {@code [V]} that predict the token after the prompt
     */
    default float[] start(int[] promptIds, int expectedLength) {
        return start(promptIds);
    }

    /**
     * Appends a token to the sequence.
     *
     * @return the logits {@code [V]} that predict the token after it
     * @throws IllegalStateException before {@link #start}
     */
    float[] append(int tokenId);

    /** The number of tokens of the current sequence. */
    int length();

    /** The longest sequence the model takes ({@code max_position_embeddings}). */
    int maxLength();
}
