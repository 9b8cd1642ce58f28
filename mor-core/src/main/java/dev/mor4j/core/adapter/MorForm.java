package dev.mor4j.core.adapter;

import dev.mor4j.core.MorException;
import java.util.Arrays;
import java.util.Locale;

/**
 * How {@link MixtureOfRanks} evaluates its sum over experts ({@link ExpertSum}). All three compute the same function
 * and the same gradients (they agree to float rounding); they differ in memory and speed, never in what a model
 * learns. The form is a choice of computation, not part of an adapter: it is not saved with the adapter.
 */
public enum MorForm {
    /**
     * The default and the cheapest: MoR as one LoRA of rank {@code N·r}. Builds {@code [tokens, N·r]} and
     * {@code [N·r, d_out]} tensors and never {@code [tokens, N, d_out]}.
     */
    EXPANDED,
    /**
     * The paper's batched form (eq. 15, its Fig. 3): all experts' outputs as one {@code [tokens, N, d_out]} tensor,
     * weighted by the gates and summed over the experts. Holds N times a layer's output in memory.
     */
    STACKED,
    /**
     * A sum of N per-expert terms {@code s·g_i ⊙ E_i} {@code [tokens, d_out]}, each its own product (the gate scales
     * the expert's r-wide input); the reference.
     */
    LOOP;

    /** The name on the command line ({@code expanded}, {@code stacked}, {@code loop}). */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The form named {@code s}, case-insensitively.
     *
     * @throws MorException naming the forms there are
     */
    public static MorForm parse(String s) {
        for (MorForm f : values()) {
            if (f.cliName().equalsIgnoreCase(s)) {
                return f;
            }
        }
        throw new MorException("unknown MoR form '" + s + "': expected one of "
                + Arrays.toString(Arrays.stream(values()).map(MorForm::cliName).toArray()));
    }
}
