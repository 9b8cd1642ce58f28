package dev.mor4j.core.adapter;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.MorException;
import java.util.List;
import java.util.Locale;

/**
 * An adapter's {@code adapter_config.json}, in PEFT's field names (snake_case in JSON). Fields PEFT writes
 * that this library does not use are ignored on load.
 *
 * @param peftType            {@code LORA} (LoRA, or DoRA with {@code use_dora}), {@code MOR} or {@code MOELORA}
 * @param r                   rank of the shared (MoR) or per-expert (MoELoRA) LoRA pair
 * @param loraAlpha           scaling numerator: the update is scaled by {@code alpha / r} (or {@code alpha / √r} with rsLoRA)
 * @param loraDropout         dropout probability on the adapter's input while training
 * @param targetModules       module names to adapt, e.g. {@code gate_proj}
 * @param useDora             DoRA (only with {@code LORA})
 * @param useRslora           scale by {@code alpha / √r}
 * @param numExperts          N, for MoR and MoELoRA
 * @param router              how experts are weighted (MoR, MoELoRA)
 * @param topK                experts kept by the {@code topk} router
 * @param routerAuxLossCoef   coefficient of the {@code balanced} router's load-balancing loss
 * @param omegaInit           MoR expert scaling vectors' initialisation: {@code ones} or {@code random}
 * @param taskType            PEFT task type, e.g. {@code CAUSAL_LM}
 * @param baseModelNameOrPath the base model this adapter was trained on
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AdapterConfig(
        String peftType,
        int r,
        double loraAlpha,
        double loraDropout,
        List<String> targetModules,
        boolean useDora,
        boolean useRslora,
        Integer numExperts,
        RouterType router,
        Integer topK,
        Double routerAuxLossCoef,
        String omegaInit,
        String taskType,
        String baseModelNameOrPath) {

    /** The paper's MoR setting: r 8, α 32, N 8, dropout 0.05, softmax router, on gate/up/down projections. */
    public static AdapterConfig morDefaults() {
        return new AdapterConfig("MOR", 8, 32, 0.05, List.of("gate_proj", "up_proj", "down_proj"),
                false, false, 8, RouterType.SOFTMAX, 2, 0.01, "ones", "CAUSAL_LM", null);
    }

    /** The adapter family this config describes. */
    @JsonIgnore
    public AdapterMethod method() {
        String t = peftType == null ? "" : peftType.toUpperCase(Locale.ROOT);
        switch (t) {
            case "LORA":
                return useDora ? AdapterMethod.DORA : AdapterMethod.LORA;
            case "MOR":
                return AdapterMethod.MOR;
            case "MOELORA":
                return AdapterMethod.MOELORA;
            default:
                throw new MorException("adapter_config.json: unknown peft_type '" + peftType
                        + "': expected LORA, MOR or MOELORA");
        }
    }

    /** The factor the low-rank update is multiplied by: {@code α / r}, or {@code α / √r} with rsLoRA. */
    @JsonIgnore
    public double scaling() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    /** N, with a clear error when a mixture adapter has none. */
    @JsonIgnore
    public int experts() {
        if (numExperts == null || numExperts < 1) {
            throw new MorException("adapter_config.json: num_experts must be ≥ 1 for " + peftType + ", got " + numExperts);
        }
        return numExperts;
    }

    /** The router, {@code softmax} when unset. */
    @JsonIgnore
    public RouterType routerOrDefault() {
        return router == null ? RouterType.SOFTMAX : router;
    }

    public AdapterConfig withBaseModel(String baseModel) {
        return new AdapterConfig(peftType, r, loraAlpha, loraDropout, targetModules, useDora, useRslora, numExperts,
                router, topK, routerAuxLossCoef, omegaInit, taskType, baseModel);
    }
}
