package dev.mor4j.core.adapter;

import java.util.Locale;

/** How MoR's expert scaling vectors Ω_A, Ω_B start ({@code omega_init} in adapter_config.json). */
public enum OmegaInit {
    /** All ones: every expert starts as the shared LoRA (the default). */
    ONES,
    /** {@code N(1, 0.02²)} entries, so the experts differ from the first step. */
    RANDOM;

    /** The value written in adapter_config.json. */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
