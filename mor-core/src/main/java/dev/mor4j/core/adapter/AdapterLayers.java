package dev.mor4j.core.adapter;

import dev.mor4j.core.nn.FrozenLinear;

/** Creates the adapter layer an {@link AdapterConfig} describes. */
public final class AdapterLayers {

    private AdapterLayers() {
    }

    /**
     * The layer for {@code cfg.method()}, MoR in its default {@link MorForm#EXPANDED} form.
     *
     * @param prefix the PEFT module prefix, e.g. {@code base_model.model.model.layers.0.mlp.up_proj}
     * @throws dev.mor4j.core.MorException when the config is invalid for that method
     */
    public static AdapterLayer create(AdapterConfig cfg, String prefix, FrozenLinear base) {
        return create(cfg, prefix, base, MorForm.EXPANDED);
    }

    /** As {@link #create(AdapterConfig, String, FrozenLinear)}, choosing how MoR evaluates its experts. */
    public static AdapterLayer create(AdapterConfig cfg, String prefix, FrozenLinear base, MorForm morForm) {
        switch (cfg.method()) {
            case LORA:
                return new LoraLayer(cfg, prefix, base);
            case DORA:
                return new DoraLayer(cfg, prefix, base);
            case MOELORA:
                return new MoeLoraLayer(cfg, prefix, base);
            case MOR:
                return new MixtureOfRanks(cfg, prefix, base, morForm);
            case MORE:
                return new MixtureOfRankExperts(cfg, prefix, base);
            default:
                throw new IllegalStateException("unhandled adapter method " + cfg.method());
        }
    }
}
