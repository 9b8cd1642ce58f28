package dev.mor4j.core.adapter;

import dev.mor4j.core.MorException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds an {@link AdapterConfig} by named options, starting from the MoR paper's setting for every method
 * (r 8, α 32, dropout 0.05, on {@code gate_proj}, {@code up_proj}, {@code down_proj}; MoR and MoE-LoRA with 8
 * experts and a softmax router; MoRE with rank experts 1…r, task-alignment weight 0.1 and temperature 0.05).
 * {@link #build()} checks the combination and names what is wrong.
 *
 * <pre>
 *   AdapterConfig mor = AdapterConfig.mor().experts(8).rank(8).alpha(32).build();
 *   AdapterConfig lora = AdapterConfig.lora().rank(16).targetModules("q_proj", "v_proj").build();
 *   AdapterConfig more = AdapterConfig.more(List.of("flan_v2", "oasst1")).rankExperts(1, 2, 4, 8).build();
 * </pre>
 */
public final class AdapterConfigBuilder {

    private final AdapterMethod method;
    private int rank = 8;
    private double alpha = 32;
    private double dropout = 0.05;
    private List<String> targetModules = List.of("gate_proj", "up_proj", "down_proj");
    private boolean rslora;
    private int experts = 8;
    private RouterType router = RouterType.SOFTMAX;
    private Integer topK;
    private Double routerAuxLossCoef;
    private OmegaInit omegaInit = OmegaInit.ONES;
    private List<Integer> rankExperts;
    private List<String> tasks;
    private double taskLossWeight = AdapterConfig.DEFAULT_TASK_LOSS_WEIGHT;
    private double taskTemperature = AdapterConfig.DEFAULT_TASK_TEMPERATURE;
    private Map<String, Integer> rankPattern;
    private Map<String, Double> alphaPattern;
    private String taskType = "CAUSAL_LM";
    private String baseModel;

    AdapterConfigBuilder(AdapterMethod method) {
        this.method = method;
    }

    /** A builder holding {@code c}'s options ({@link AdapterConfig#toBuilder()}). */
    static AdapterConfigBuilder from(AdapterConfig c) {
        AdapterConfigBuilder b = new AdapterConfigBuilder(c.method());
        b.rank = c.r();
        b.alpha = c.loraAlpha();
        b.dropout = c.loraDropout();
        b.targetModules = c.targetModules();
        b.rslora = c.useRslora();
        if (c.numExperts() != null) {
            b.experts = c.numExperts();
        }
        if (c.router() != null) {
            b.router = c.router();
        }
        b.topK = c.topK();
        b.routerAuxLossCoef = c.routerAuxLossCoef();
        if (c.omegaInit() != null) {
            b.omegaInit = java.util.Arrays.stream(OmegaInit.values()).filter(o -> o.jsonName().equalsIgnoreCase(
                    c.omegaInit())).findFirst().orElseThrow(() -> new MorException("adapter config: omega_init must be"
                    + " 'ones' or 'random', got '" + c.omegaInit() + "'"));
        }
        b.rankExperts = c.rankExperts();
        b.tasks = c.tasks();
        if (c.taskLossWeight() != null) {
            b.taskLossWeight = c.taskLossWeight();
        }
        if (c.taskTemperature() != null) {
            b.taskTemperature = c.taskTemperature();
        }
        b.rankPattern = c.rankPattern();
        b.alphaPattern = c.alphaPattern();
        b.taskType = c.taskType();
        b.baseModel = c.baseModelNameOrPath();
        return b;
    }

    /** r: the rank of the LoRA pair (MoR, MoRE: the shared pair; MoE-LoRA: each expert's). */
    public AdapterConfigBuilder rank(int r) {
        this.rank = r;
        return this;
    }

    /** α: the update is scaled by α/r (α/√r with {@link #rslora}). */
    public AdapterConfigBuilder alpha(double alpha) {
        this.alpha = alpha;
        return this;
    }

    /** Dropout probability on the adapter's input while training, in [0, 1). */
    public AdapterConfigBuilder dropout(double p) {
        this.dropout = p;
        return this;
    }

    /** The projections to adapt, by name or name suffix (PEFT's {@code target_modules}). */
    public AdapterConfigBuilder targetModules(String... names) {
        this.targetModules = List.of(names);
        return this;
    }

    /** The projections to adapt, by name or name suffix (PEFT's {@code target_modules}). */
    public AdapterConfigBuilder targetModules(List<String> names) {
        this.targetModules = List.copyOf(names);
        return this;
    }

    /** Scale by α/√r (rank-stabilised LoRA). */
    public AdapterConfigBuilder rslora(boolean on) {
        this.rslora = on;
        return this;
    }

    /** N, the experts of MoR and MoE-LoRA. */
    public AdapterConfigBuilder experts(int n) {
        this.experts = n;
        return this;
    }

    /** How MoR and MoE-LoRA weigh their experts. */
    public AdapterConfigBuilder router(RouterType type) {
        this.router = type;
        return this;
    }

    /** k of the {@link RouterType#TOPK} router. */
    public AdapterConfigBuilder topK(int k) {
        this.topK = k;
        return this;
    }

    /** Coefficient of the {@link RouterType#BALANCED} router's load-balancing loss. */
    public AdapterConfigBuilder routerAuxLossCoef(double coef) {
        this.routerAuxLossCoef = coef;
        return this;
    }

    /** How MoR's expert scaling vectors start. */
    public AdapterConfigBuilder omegaInit(OmegaInit init) {
        this.omegaInit = init;
        return this;
    }

    /** MoRE's rank experts {@code r_1 < … < r_K ≤ r}; default 1…r. */
    public AdapterConfigBuilder rankExperts(int... ranks) {
        this.rankExperts = Arrays.stream(ranks).boxed().toList();
        return this;
    }

    /** MoRE's rank experts {@code r_1 < … < r_K ≤ r}; null for the default 1…r. */
    public AdapterConfigBuilder rankExperts(List<Integer> ranks) {
        this.rankExperts = ranks == null ? null : List.copyOf(ranks);
        return this;
    }

    /** MoRE's task-alignment loss weight λ. */
    public AdapterConfigBuilder taskLossWeight(double weight) {
        this.taskLossWeight = weight;
        return this;
    }

    /** MoRE's task-alignment temperature τ. */
    public AdapterConfigBuilder taskTemperature(double tau) {
        this.taskTemperature = tau;
        return this;
    }

    /** PEFT's per-module rank overrides (LoRA, DoRA): module-name pattern to rank. */
    public AdapterConfigBuilder rankPattern(Map<String, Integer> pattern) {
        this.rankPattern = new LinkedHashMap<>(pattern);
        return this;
    }

    /** PEFT's per-module α overrides (LoRA, DoRA): module-name pattern to α. */
    public AdapterConfigBuilder alphaPattern(Map<String, Double> pattern) {
        this.alphaPattern = new LinkedHashMap<>(pattern);
        return this;
    }

    /** PEFT's task type; {@code CAUSAL_LM} by default. */
    public AdapterConfigBuilder taskType(String type) {
        this.taskType = type;
        return this;
    }

    /** The base model the adapter is trained on (written as {@code base_model_name_or_path}). */
    public AdapterConfigBuilder baseModel(String nameOrPath) {
        this.baseModel = nameOrPath;
        return this;
    }

    AdapterConfigBuilder tasks(List<String> names) {
        this.tasks = List.copyOf(names);
        return this;
    }

    /**
     * The config.
     *
     * @throws MorException naming the first option that is out of range for this method
     */
    public AdapterConfig build() {
        require(rank >= 1, "rank must be ≥ 1, got " + rank);
        require(alpha > 0, "alpha must be > 0, got " + alpha);
        require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got " + dropout);
        require(targetModules != null && !targetModules.isEmpty(), "targetModules must name at least one module");
        boolean mixture = method == AdapterMethod.MOR || method == AdapterMethod.MOELORA;
        if (mixture) {
            require(experts >= 1, "experts must be ≥ 1, got " + experts);
            if (router == RouterType.TOPK) {
                require(topK != null && topK >= 1 && topK <= experts, "topK must be in [1, experts=" + experts
                        + "] for the topk router, got " + topK);
            }
        }
        require(method == AdapterMethod.MOR || omegaInit == OmegaInit.ONES, "omegaInit applies to MoR only");
        boolean lora = method == AdapterMethod.LORA || method == AdapterMethod.DORA;
        require(lora || (rankPattern == null && alphaPattern == null),
                "rankPattern and alphaPattern apply to LoRA and DoRA only");
        if (method == AdapterMethod.MORE) {
            require(taskLossWeight >= 0, "taskLossWeight must be ≥ 0, got " + taskLossWeight);
            require(taskTemperature > 0, "taskTemperature must be > 0, got " + taskTemperature);
        }
        String peftType = lora ? "LORA" : method.name();
        AdapterConfig c = new AdapterConfig(peftType, rank, alpha, dropout, targetModules,
                method == AdapterMethod.DORA, rslora, mixture ? experts : null, mixture ? router : null,
                mixture && router == RouterType.TOPK ? topK : null,
                mixture && router == RouterType.BALANCED ? routerAuxLossCoef : null,
                method == AdapterMethod.MOR ? omegaInit.jsonName() : null, taskType, baseModel,
                method == AdapterMethod.MORE ? rankExperts : null, method == AdapterMethod.MORE ? tasks : null,
                method == AdapterMethod.MORE ? taskLossWeight : null, method == AdapterMethod.MORE ? taskTemperature : null,
                rankPattern, alphaPattern);
        if (method == AdapterMethod.MORE) {
            try {
                c.rankExpertsOrDefault();
                c.taskNames();
            } catch (MorException e) {
                throw new MorException(e.getMessage().replace("adapter_config.json: ", "adapter config: "));
            }
        }
        return c;
    }

    private void require(boolean ok, String message) {
        if (!ok) {
            throw new MorException("adapter config (" + method + "): " + message);
        }
    }
}
