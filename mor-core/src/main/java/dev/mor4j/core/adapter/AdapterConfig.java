package dev.mor4j.core.adapter;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.mor4j.core.MorException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * An adapter's {@code adapter_config.json}, in PEFT's field names (snake_case in JSON). Fields PEFT writes
 * that this library does not use are ignored on load.
 *
 * <p>Made by named options from the paper's defaults, checked when built:
 * <pre>
 *   AdapterConfig mor = AdapterConfig.mor().experts(8).rank(8).alpha(32).build();
 *   AdapterConfig lora = AdapterConfig.lora().rank(16).targetModules("q_proj", "v_proj").build();
 * </pre>
 * or read from a file ({@link AdapterFiles#readConfig}). A config is immutable; {@link #toBuilder()} starts a
 * changed copy. The accessors carry PEFT's field names in camelCase ({@code lora_alpha} is {@link #loraAlpha()}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class AdapterConfig {

    /** MoRE's task-alignment loss weight when the config sets none. */
    public static final double DEFAULT_TASK_LOSS_WEIGHT = 0.1;
    /** MoRE's task-alignment temperature when the config sets none. */
    public static final double DEFAULT_TASK_TEMPERATURE = 0.05;

    @JsonProperty("peft_type")
    private final String peftType;
    @JsonProperty("r")
    private final int r;
    @JsonProperty("lora_alpha")
    private final double loraAlpha;
    @JsonProperty("lora_dropout")
    private final double loraDropout;
    @JsonProperty("target_modules")
    private final List<String> targetModules;
    @JsonProperty("use_dora")
    private final boolean useDora;
    @JsonProperty("use_rslora")
    private final boolean useRslora;
    @JsonProperty("num_experts")
    private final Integer numExperts;
    @JsonProperty("router")
    private final RouterType router;
    @JsonProperty("top_k")
    private final Integer topK;
    @JsonProperty("router_aux_loss_coef")
    private final Double routerAuxLossCoef;
    @JsonProperty("omega_init")
    private final String omegaInit;
    @JsonProperty("task_type")
    private final String taskType;
    @JsonProperty("base_model_name_or_path")
    private final String baseModelNameOrPath;
    @JsonProperty("rank_experts")
    private final List<Integer> rankExperts;
    @JsonProperty("tasks")
    private final List<String> tasks;
    @JsonProperty("task_loss_weight")
    private final Double taskLossWeight;
    @JsonProperty("task_temperature")
    private final Double taskTemperature;
    @JsonProperty("rank_pattern")
    private final Map<String, Integer> rankPattern;
    @JsonProperty("alpha_pattern")
    private final Map<String, Double> alphaPattern;

    /**
     * Every field, as {@code adapter_config.json} holds them: Jackson's way in, and the builder's. Not public: a
     * config is made by {@link #lora()}, {@link #dora()}, {@link #mor()}, {@link #moeLora()} or {@link #more}, or
     * read from a file ({@link AdapterFiles#readConfig}).
     */
    @JsonCreator
    AdapterConfig(
            @JsonProperty("peft_type") String peftType,
            @JsonProperty("r") int r,
            @JsonProperty("lora_alpha") double loraAlpha,
            @JsonProperty("lora_dropout") double loraDropout,
            @JsonProperty("target_modules") List<String> targetModules,
            @JsonProperty("use_dora") boolean useDora,
            @JsonProperty("use_rslora") boolean useRslora,
            @JsonProperty("num_experts") Integer numExperts,
            @JsonProperty("router") RouterType router,
            @JsonProperty("top_k") Integer topK,
            @JsonProperty("router_aux_loss_coef") Double routerAuxLossCoef,
            @JsonProperty("omega_init") String omegaInit,
            @JsonProperty("task_type") String taskType,
            @JsonProperty("base_model_name_or_path") String baseModelNameOrPath,
            @JsonProperty("rank_experts") List<Integer> rankExperts,
            @JsonProperty("tasks") List<String> tasks,
            @JsonProperty("task_loss_weight") Double taskLossWeight,
            @JsonProperty("task_temperature") Double taskTemperature,
            @JsonProperty("rank_pattern") Map<String, Integer> rankPattern,
            @JsonProperty("alpha_pattern") Map<String, Double> alphaPattern) {
        this.peftType = peftType;
        this.r = r;
        this.loraAlpha = loraAlpha;
        this.loraDropout = loraDropout;
        this.targetModules = targetModules;
        this.useDora = useDora;
        this.useRslora = useRslora;
        this.numExperts = numExperts;
        this.router = router;
        this.topK = topK;
        this.routerAuxLossCoef = routerAuxLossCoef;
        this.omegaInit = omegaInit;
        this.taskType = taskType;
        this.baseModelNameOrPath = baseModelNameOrPath;
        this.rankExperts = rankExperts;
        this.tasks = tasks;
        this.taskLossWeight = taskLossWeight;
        this.taskTemperature = taskTemperature;
        // PEFT writes empty patterns; an empty pattern and none mean the same
        // kept in order: the first pattern that matches a module applies, as in PEFT
        this.rankPattern = rankPattern == null || rankPattern.isEmpty() ? null
                : Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
        this.alphaPattern = alphaPattern == null || alphaPattern.isEmpty() ? null
                : Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
    }

    /** {@code LORA} (LoRA, or DoRA with {@code use_dora}), {@code MOR}, {@code MOELORA} or {@code MORE}. */
    public String peftType() {
        return peftType;
    }

    /** The rank of the shared (MoR, MoRE) or per-expert (MoELoRA) LoRA pair. */
    public int r() {
        return r;
    }

    /** The scaling numerator: the update is scaled by {@code alpha / r} (or {@code alpha / √r} with rsLoRA). */
    public double loraAlpha() {
        return loraAlpha;
    }

    /** The dropout probability on the adapter's input while training. */
    public double loraDropout() {
        return loraDropout;
    }

    /** The module names to adapt, e.g. {@code gate_proj}. */
    public List<String> targetModules() {
        return targetModules;
    }

    /** DoRA (only with {@code LORA}). */
    public boolean useDora() {
        return useDora;
    }

    /** Whether the update is scaled by {@code alpha / √r}. */
    public boolean useRslora() {
        return useRslora;
    }

    /** N, for MoR and MoELoRA; null for the others. */
    public Integer numExperts() {
        return numExperts;
    }

    /** How experts are weighted (MoR, MoELoRA). */
    public RouterType router() {
        return router;
    }

    /** The experts kept by the {@code topk} router. */
    public Integer topK() {
        return topK;
    }

    /** The coefficient of the {@code balanced} router's load-balancing loss. */
    public Double routerAuxLossCoef() {
        return routerAuxLossCoef;
    }

    /** MoR's expert scaling vectors' initialisation: {@code ones} or {@code random}. */
    public String omegaInit() {
        return omegaInit;
    }

    /** PEFT's task type, e.g. {@code CAUSAL_LM}. */
    public String taskType() {
        return taskType;
    }

    /** The base model this adapter was trained on. */
    public String baseModelNameOrPath() {
        return baseModelNameOrPath;
    }

    /** MoRE's rank experts {@code r_1 < … < r_K ≤ r}; null means {@code 1, 2, …, r}. */
    public List<Integer> rankExperts() {
        return rankExperts;
    }

    /** MoRE's task names in task-id order. */
    public List<String> tasks() {
        return tasks;
    }

    /** MoRE's task-alignment loss weight; null means {@value #DEFAULT_TASK_LOSS_WEIGHT}. */
    public Double taskLossWeight() {
        return taskLossWeight;
    }

    /** MoRE's task-alignment temperature τ; null means {@value #DEFAULT_TASK_TEMPERATURE}. */
    public Double taskTemperature() {
        return taskTemperature;
    }

    /** PEFT's per-module ranks that override {@code r} (LoRA): module-name pattern to rank, in order. */
    public Map<String, Integer> rankPattern() {
        return rankPattern;
    }

    /** PEFT's per-module alphas that override {@code lora_alpha} (LoRA), in order. */
    public Map<String, Double> alphaPattern() {
        return alphaPattern;
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

    /** The paper's MoR setting: {@code mor().build()} (r 8, α 32, N 8, dropout 0.05, softmax router, gate/up/down). */
    public static AdapterConfig morDefaults() {
        return mor().build();
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

    /** MoRE's defaults for the given tasks: {@code more(tasks).build()}. */
    public static AdapterConfig moreDefaults(List<String> tasks) {
        return more(tasks).build();
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

    /** This config with {@code base_model_name_or_path} set (every other field unchanged). */
    public AdapterConfig withBaseModel(String baseModel) {
        return new AdapterConfig(peftType, r, loraAlpha, loraDropout, targetModules, useDora, useRslora, numExperts,
                router, topK, routerAuxLossCoef, omegaInit, taskType, baseModel, rankExperts, tasks, taskLossWeight,
                taskTemperature, rankPattern, alphaPattern);
    }

    /**
     * A builder holding this config's options, for a changed copy: {@code c.toBuilder().dropout(0).build()}. Its
     * {@code build()} checks the options again.
     */
    public AdapterConfigBuilder toBuilder() {
        return AdapterConfigBuilder.from(this);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof AdapterConfig c)) {
            return false;
        }
        return r == c.r && Double.compare(loraAlpha, c.loraAlpha) == 0
                && Double.compare(loraDropout, c.loraDropout) == 0 && useDora == c.useDora && useRslora == c.useRslora
                && Arrays.asList(fields()).equals(Arrays.asList(c.fields()));
    }

    @Override
    public int hashCode() {
        return Objects.hash(r, loraAlpha, loraDropout, useDora, useRslora, Arrays.hashCode(fields()));
    }

    /** The fields that are objects, in declaration order. */
    private Object[] fields() {
        return new Object[] {peftType, targetModules, numExperts, router, topK, routerAuxLossCoef, omegaInit, taskType,
            baseModelNameOrPath, rankExperts, tasks, taskLossWeight, taskTemperature, rankPattern, alphaPattern};
    }

    @Override
    public String toString() {
        return "AdapterConfig[peftType=" + peftType + ", r=" + r + ", loraAlpha=" + loraAlpha + ", loraDropout="
                + loraDropout + ", targetModules=" + targetModules + ", useDora=" + useDora + ", useRslora=" + useRslora
                + ", numExperts=" + numExperts + ", router=" + router + ", topK=" + topK + ", routerAuxLossCoef="
                + routerAuxLossCoef + ", omegaInit=" + omegaInit + ", taskType=" + taskType + ", baseModelNameOrPath="
                + baseModelNameOrPath + ", rankExperts=" + rankExperts + ", tasks=" + tasks + ", taskLossWeight="
                + taskLossWeight + ", taskTemperature=" + taskTemperature + ", rankPattern=" + rankPattern
                + ", alphaPattern=" + alphaPattern + "]";
    }
}
