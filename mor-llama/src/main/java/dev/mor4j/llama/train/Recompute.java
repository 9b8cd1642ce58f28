package dev.mor4j.llama.train;

import dev.mor4j.core.MorException;
import java.util.Locale;

/**
 * Whether a fine-tuning run recomputes each layer's activations in the backward pass (activation checkpointing,
 * {@link LayerwiseGradients}) instead of keeping them all from the forward pass.
 */
public enum Recompute {
    /** Recompute only when the {@link MemoryPlan} says the run would not fit otherwise (the default). */
    AUTO,
    /** Always recompute: the least memory, one more forward pass of every layer per step. */
    ON,
    /** Never recompute: the whole model is one graph and every activation is kept for the backward pass. */
    OFF;

    /** {@code auto}, {@code on} or {@code off}. */
    public static Recompute parse(String s) {
        for (Recompute r : values()) {
            if (r.name().equalsIgnoreCase(s)) {
                return r;
            }
        }
        throw new MorException("recompute '" + s + "': expected auto, on or off");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
