package dev.mor4j.bench;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterConfigBuilder;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.adapter.AdapterLayers;
import dev.mor4j.core.adapter.MorForm;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.nn.FrozenLinear;
import java.util.List;

/**
 * What a benchmarked projection computes: the frozen weight alone, or the frozen weight with one adapter.
 * Every adapter has dropout 0 (no mask multiplication) and a softmax router where it has one; LoRA and MoR
 * use α = 32 as the paper's setting does.
 */
public enum Variant {
    /** The frozen weight alone, {@code y = x Wᵀ}. */
    BASE(null, 0, 0, null),
    /** LoRA, r = 8. */
    LORA_R8("LORA", 8, 0, null),
    /** LoRA, r = 64 = N·r: the rank MoR N 8, r 8 expands to. */
    LORA_R64("LORA", 64, 0, null),
    /** MoR N 8, r 8 as the paper's eq. 15 writes it: a {@code [tokens, N, d_out]} tensor. */
    MOR_STACKED("MOR", 8, 8, MorForm.STACKED),
    /** MoR N 8, r 8, the library's default form: one LoRA of rank N·r. */
    MOR_EXPANDED("MOR", 8, 8, MorForm.EXPANDED),
    /** MoR N 8, r 8 as N separate expert terms. */
    MOR_LOOP("MOR", 8, 8, MorForm.LOOP),
    /** MoE-LoRA with 2 experts of rank 8. */
    MOELORA_2("MOELORA", 8, 2, null),
    /**
     * MoRE, R = 8 (rank experts 1…8), two tasks, its task-alignment loss included: one LoRA of rank 8 with a
     * per-rank mask.
     */
    MORE_R8("MORE", 8, 0, null);

    /** The tasks of {@link #MORE_R8}. */
    public static final List<String> MORE_TASKS = List.of("task_a", "task_b");

    private final String peftType;
    private final int r;
    private final int experts;
    private final MorForm form;

    Variant(String peftType, int r, int experts, MorForm form) {
        this.peftType = peftType;
        this.r = r;
        this.experts = experts;
        this.form = form;
    }

    /** True for {@link #BASE}, which has no adapter. */
    public boolean isBase() {
        return peftType == null;
    }

    /** The adapter config of this variant; null for {@link #BASE}. */
    public AdapterConfig config(List<String> targets) {
        if (isBase()) {
            return null;
        }
        AdapterConfigBuilder b = switch (peftType) {
            case "MORE" -> AdapterConfig.more(MORE_TASKS);
            case "MOR" -> AdapterConfig.mor().experts(experts).router(RouterType.SOFTMAX);
            case "MOELORA" -> AdapterConfig.moeLora().experts(experts).router(RouterType.SOFTMAX);
            default -> AdapterConfig.lora();
        };
        return b.rank(r).alpha(32).dropout(0.0).targetModules(targets).build();
    }

    /** The adapter around {@code base}; null for {@link #BASE}. */
    public AdapterLayer layer(String prefix, FrozenLinear base) {
        if (isBase()) {
            return null;
        }
        AdapterConfig cfg = config(List.of(base.name()));
        return AdapterLayers.create(cfg, prefix, base, form == null ? MorForm.EXPANDED : form);
    }

    /** The MoR form, or null when the variant is not MoR. */
    public MorForm morForm() {
        return form;
    }
}
