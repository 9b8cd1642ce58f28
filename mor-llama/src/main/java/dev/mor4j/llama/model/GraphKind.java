package dev.mor4j.llama.model;

/**
 * What a {@link LlamaGraph} is built for. The kind fixes the graph's outputs, whether it trains (dropout masks,
 * router auxiliary losses, attention in two causal blocks) and its part in key/value caching:
 *
 * <table>
 *   <caption>Graph kinds</caption>
 *   <tr><th>kind</th><th>outputs</th><th>trains</th><th>labels</th></tr>
 *   <tr><td>{@link #INFERENCE}</td><td>{@code logits}, {@code hidden.*}</td><td>no</td><td>not read</td></tr>
 *   <tr><td>{@link #LOSS}</td><td>as INFERENCE, and {@code loss}</td><td>no</td><td>needed</td></tr>
 *   <tr><td>{@link #TRAINING}</td><td>as LOSS, and {@code total_loss}; gradients by
 *       {@link LlamaGraph#gradients}</td><td>yes</td><td>needed</td></tr>
 *   <tr><td>{@link #TRAINING_LOGITS}</td><td>{@code logits} with a gradient path, for a loss of one's
 *       own</td><td>yes</td><td>not read</td></tr>
 *   <tr><td>{@link #PREFILL}</td><td>as INFERENCE, and each layer's keys and values</td><td>no</td><td>not
 *       read</td></tr>
 *   <tr><td>{@link #DECODE}</td><td>as PREFILL, taking the earlier positions' keys and values</td><td>no</td>
 *       <td>not read</td></tr>
 * </table>
 */
public enum GraphKind {
    /** Logits and hidden states of every position: generation without a cache, scoring, evaluation. */
    INFERENCE(false, false),
    /** Inference plus the causal-LM loss of a labelled batch, read as a value (perplexity, a forward pass). */
    LOSS(false, true),
    /**
     * Training: dropout, auxiliary losses, the loss and {@code total_loss} (the loss plus auxiliary losses), the
     * one output with a gradient path; {@link LlamaGraph#gradients} and {@link LlamaGraph#gradientSource} give its
     * gradients.
     */
    TRAINING(true, true),
    /**
     * Training behaviour (dropout, auxiliary losses, two causal blocks) without the library's loss: {@code logits}
     * keep their gradient path, for a loss of one's own added to the graph.
     */
    TRAINING_LOGITS(true, false),
    /** Generation's prompt pass with a key/value cache: also outputs every layer's keys and values. */
    PREFILL(false, false),
    /** Generation's later passes: takes the cache of the earlier positions and computes the new tokens only. */
    DECODE(false, false);

    private final boolean training;
    private final boolean loss;

    GraphKind(boolean training, boolean loss) {
        this.training = training;
        this.loss = loss;
    }

    /** Whether the graph trains: dropout masks, auxiliary losses, attention in two causal blocks. */
    public boolean training() {
        return training;
    }

    /** Whether the graph computes the causal-LM loss (its batches need labels). */
    public boolean hasLoss() {
        return loss;
    }

    /** Whether the graph takes part in key/value caching ({@link #PREFILL}, {@link #DECODE}). */
    public boolean caches() {
        return this == PREFILL || this == DECODE;
    }
}
