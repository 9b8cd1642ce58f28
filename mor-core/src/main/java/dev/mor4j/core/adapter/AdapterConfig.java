package dev.mor4j.core.adapter;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.MorException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An adapter's {@code adapter_config.json}, in PEFT's field names (snake_case in JSON). Fields PEFT writes
 * that this library does not use are ignored on load.
 *
 * @param peftType            {@code LORA} (LoRA, or DoRA with {@code use_dora}), {@code MOR}, {@code MOELORA} or {@code MORE}
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
 * @param rankExperts         MoRE's rank experts {@code r_1 < … < r_K ≤ r}; null means {@code 1, 2, …, r}
 * @param tasks               MoRE's task names in task-id order
 * @param taskLossWeight      MoRE's task-alignment loss weight (default {@value #DEFAULT_TASK_LOSS_WEIGHT})
 * @param taskTemperature     MoRE's task-alignment temperature τ (default {@value #DEFAULT_TASK_TEMPERATURE})
 * @param rankPattern         PEFT's per-module ranks that override {@code r} (LoRA): module-name pattern to rank
 * @param alphaPattern        PEFT's per-module alphas that override {@code lora_alpha} (LoRA)
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
        String baseModelNameOrPath,
        List<Integer> rankExperts,
        List<String> tasks,
        Double taskLossWeight,
        Double taskTemperature,
        Map<String, Integer> rankPattern,
        Map<String, Double> alphaPattern) {

    /** MoRE's task-alignment loss weight when the config sets none. */
    public static final double DEFAULT_TASK_LOSS_WEIGHT = 0.1;
    /** MoRE's task-alignment temperature when the config sets none. */
    public static final double DEFAULT_TASK_TEMPERATURE = 0.05;

    public AdapterConfig {
        // PEFT writes empty patterns; an empty pattern and none mean the same
        // kept in order: the first pattern that matches a module applies, as in PEFT
        rankPattern = rankPattern == null || rankPattern.isEmpty() ? null
                : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(rankPattern));
        alphaPattern = alphaPattern == null || alphaPattern.isEmpty() ? null
                : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(alphaPattern));
    }

    /** A config without MoRE's fields or per-module patterns (LoRA, DoRA, MoR, MoELoRA). */
    public AdapterConfig(String peftType, int r, double loraAlpha, double loraDropout, List<String> targetModules,
            boolean useDora, boolean useRslora, Integer numExperts, RouterType router, Integer topK,
            Double routerAuxLossCoef, String omegaInit, String taskType, String baseModelNameOrPath) {
        this(peftType, r, loraAlpha, loraDropout, targetModules, useDora, useRslora, numExperts, router, topK,
                routerAuxLossCoef, omegaInit, taskType, baseModelNameOrPath, null, null, null, null, null, null);
    }

    /** A LoRA config by named options, from the paper's setting (r 8, α 32, dropout 0.05, gate/up/down). */
    public static AdapterConfigBuilder lora() {
        return new AdapterConfigBuilder(AdapterMethod.LORA);
    }

    /** A DoRA config by named options, from the paper's setting. */
    public static AdapterConfigBuilder dora() {
        return new AdapterConfigBuilder(AdapterMethod.DORA);
    }

    /** A MoR config by named options, from the paper's setting (N 8, softmax router, Ω initialised to ones). */
    public static AdapterConfigBuilder mor() {
        return new AdapterConfigBuilder(AdapterMethod.MOR);
    }

    /** A MoE-LoRA config by named options, from the paper's setting (N 8, softmax router). */
    public static AdapterConfigBuilder moeLora() {
        return new AdapterConfigBuilder(AdapterMethod.MOELORA);
    }

    /** A MoRE config for the given tasks (in task-id order), by named options. */
    public static AdapterConfigBuilder more(List<String> tasks) {
        return new AdapterConfigBuilder(AdapterMethod.MORE).tasks(tasks);
    }

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
            case "MORE":
                return AdapterMethod.MORE;
            default:
                throw new MorException("adapter_config.json: unknown peft_type '" + peftType
                        + "': expected LORA, MOR, MOELORA or MORE");
        }
    }

    /** The factor the low-rank update is multiplied by: {@code α / r}, or {@code α / √r} with rsLoRA. */
    @JsonIgnore
    public double scaling() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    /**
     * The rank of one module: {@code rank_pattern}'s entry for it when one matches, else {@code r}. A pattern
     * matches a module as in PEFT: the regular expression {@code (.*\.)?(pattern)$} matches its whole name.
     *
     * @param module the module's name, e.g. {@code base_model.model.model.layers.0.mlp.up_proj}
     */
    public int rankFor(String module) {
        Integer v = matching(rankPattern, module);
        return v == null ? r : v;
    }

    /** The scaling of one module: {@code α/r} (or {@code α/√r}) with {@code rank_pattern}/{@code alpha_pattern} applied. */
    public double scalingFor(String module) {
        Double a = matching(alphaPattern, module);
        double alpha = a == null ? loraAlpha : a;
        int rank = rankFor(module);
        return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    private static <V> V matching(Map<String, V> patterns, String module) {
        if (patterns == null) {
            return null;
        }
        for (Map.Entry<String, V> e : patterns.entrySet()) {
            if (java.util.regex.Pattern.compile("(.*\\.)?(" + e.getKey() + ")$").matcher(module).matches()) {
                return e.getValue();
            }
        }
        return null;
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

    /**
     * MoRE's defaults: r 8 (rank experts 1…8), α 32, dropout 0.05, task-alignment weight 0.1 and temperature 0.05,
     * on gate/up/down projections, for the given tasks.
     */
    public static AdapterConfig moreDefaults(List<String> tasks) {
        return new AdapterConfig("MORE", 8, 32, 0.05, List.of("gate_proj", "up_proj", "down_proj"), false, false,
                null, null, null, null, null, "CAUSAL_LM", null, null, List.copyOf(tasks), DEFAULT_TASK_LOSS_WEIGHT,
                DEFAULT_TASK_TEMPERATURE, null, null);
    }

    /** MoRE's rank experts {@code r_1 < … < r_K ≤ r}, checked; {@code 1, 2, …, r} when unset. */
    @JsonIgnore
    public List<Integer> rankExpertsOrDefault() {
        if (rankExperts == null || rankExperts.isEmpty()) {
            return java.util.stream.IntStream.rangeClosed(1, r).boxed().toList();
        }
        int previous = 0;
        for (int k : rankExperts) {
            if (k <= previous || k > r) {
                throw new MorException("adapter_config.json: rank_experts must increase strictly within [1, r=" + r
                        + "], got " + rankExperts);
            }
            previous = k;
        }
        return List.copyOf(rankExperts);
    }

    /** MoRE's task names, with a clear error when there are none. */
    @JsonIgnore
    public List<String> taskNames() {
        if (tasks == null || tasks.isEmpty()) {
            throw new MorException("adapter_config.json: a " + peftType + " adapter needs 'tasks', the ordered task"
                    + " names (a task id is an index into it)");
        }
        return List.copyOf(tasks);
    }

    /** The task-alignment loss weight, {@value #DEFAULT_TASK_LOSS_WEIGHT} when unset. */
    @JsonIgnore
    public double taskLossWeightOrDefault() {
        return taskLossWeight == null ? DEFAULT_TASK_LOSS_WEIGHT : taskLossWeight;
    }

    /** The task-alignment temperature τ, {@value #DEFAULT_TASK_TEMPERATURE} when unset. */
    @JsonIgnore
    public double taskTemperatureOrDefault() {
        return taskTemperature == null ? DEFAULT_TASK_TEMPERATURE : taskTemperature;
    }

    public AdapterConfig withBaseModel(String baseModel) {
        return new AdapterConfig(peftType, r, loraAlpha, loraDropout, targetModules, useDora, useRslora, numExperts,
                router, topK, routerAuxLossCoef, omegaInit, taskType, baseModel, rankExperts, tasks, taskLossWeight,
                taskTemperature, rankPattern, alphaPattern);
    }
}
