package dev.mor4j.core.adapter;

/**
 * How {@link MixtureOfRanks} evaluates its sum over experts. All three compute the same function (they agree
 * to float rounding); they differ in memory and speed.
 */
public enum MorForm {
    /**
     * The default: MoR as one LoRA of rank {@code N·r}. Builds {@code [tokens, N·r]} and
     * {@code [d_out, N·r]} tensors and never {@code [tokens, N, d_out]}.
     */
    EXPANDED,
    /** The paper's batched form (eq. 15): all experts' outputs as one {@code [tokens, N, d_out]} tensor. */
    STACKED,
    /** A plain sum of N per-expert terms; the reference the other forms are checked against. */
    LOOP
}
