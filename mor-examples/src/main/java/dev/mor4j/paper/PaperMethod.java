package dev.mor4j.paper;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.RouterType;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The methods the experiment compares, as the MoR paper's Tables 1, 3 and 4 name them: each one an adapter built by
 * {@link AdapterConfig}'s builders from the paper's setting (α 32, dropout 0.05, on {@code gate_proj},
 * {@code up_proj}, {@code down_proj}), changing only the rank, the experts and the router; or full fine-tuning.
 * The same settings as {@code mor finetune --method M --rank R --experts N --router X} with its defaults.
 */
public enum PaperMethod {
    LORA_R8("lora-r8", Family.LORA, 8, 0, null),
    LORA_R16("lora-r16", Family.LORA, 16, 0, null),
    DORA_R8("dora-r8", Family.DORA, 8, 0, null),
    MOELORA_E2_R8("moelora-e2-r8", Family.MOELORA, 8, 2, RouterType.SOFTMAX),
    MOR_E1_R8("mor-e1-r8", Family.MOR, 8, 1, RouterType.SOFTMAX),
    MOR_E2_R8("mor-e2-r8", Family.MOR, 8, 2, RouterType.SOFTMAX),
    MOR_E4_R8("mor-e4-r8", Family.MOR, 8, 4, RouterType.SOFTMAX),
    MOR_E8_R8("mor-e8-r8", Family.MOR, 8, 8, RouterType.SOFTMAX),
    MOR_E8_R4("mor-e8-r4", Family.MOR, 4, 8, RouterType.SOFTMAX),
    MOR_E8_R16("mor-e8-r16", Family.MOR, 16, 8, RouterType.SOFTMAX),
    MOR_E8_R32("mor-e8-r32", Family.MOR, 32, 8, RouterType.SOFTMAX),
    MOR_E8_R8_MEAN("mor-e8-r8-mean", Family.MOR, 8, 8, RouterType.MEAN),
    MOR_E8_R8_BALANCED("mor-e8-r8-balanced", Family.MOR, 8, 8, RouterType.BALANCED),
    MORE_R8("more-r8", Family.MORE, 8, 0, null),
    FULL("full", Family.FULL, 0, 0, null);

    /** The kind of training, as {@code mor finetune --method} names it. */
    public enum Family {
        LORA, DORA, MOELORA, MOR, MORE, FULL
    }

    /** One method per family, for the smoke run: LoRA r8, DoRA r8, MoE-LoRA E2 r8, MoR E8 r8, MoRE r8, full. */
    public static final List<PaperMethod> SMOKE = List.of(LORA_R8, DORA_R8, MOELORA_E2_R8, MOR_E8_R8, MORE_R8, FULL);

    private final String cliName;
    private final Family family;
    private final int rank;
    private final int experts;
    private final RouterType router;

    PaperMethod(String cliName, Family family, int rank, int experts, RouterType router) {
        this.cliName = cliName;
        this.family = family;
        this.rank = rank;
        this.experts = experts;
        this.router = router;
    }

    /** The name on the command line and in the results, e.g. {@code mor-e8-r8}. */
    public String cliName() {
        return cliName;
    }

    public Family family() {
        return family;
    }

    /** r (for MoRE the largest rank); 0 for full fine-tuning. */
    public int rank() {
        return rank;
    }

    /** N of MoR and MoE-LoRA; 0 for the others. */
    public int experts() {
        return experts;
    }

    /** The router of MoR and MoE-LoRA; null for the others. */
    public RouterType router() {
        return router;
    }

    /** Whether this method trains every base weight instead of an adapter. */
    public boolean isFull() {
        return family == Family.FULL;
    }

    /** Whether this method adapts per task (MoRE): training and evaluation then need each example's task. */
    public boolean usesTasks() {
        return family == Family.MORE;
    }

    /** Whether the adapter has a router whose weights can be measured (MoR, MoE-LoRA). */
    public boolean hasRouter() {
        return router != null;
    }

    /**
     * The adapter config.
     *
     * @param tasks MoRE's tasks in task-id order (ignored by the other methods)
     * @throws IllegalStateException for full fine-tuning, which has no adapter
     */
    public AdapterConfig adapterConfig(List<String> tasks) {
        return switch (family) {
            case LORA -> AdapterConfig.lora().rank(rank).build();
            case DORA -> AdapterConfig.dora().rank(rank).build();
            case MOELORA -> AdapterConfig.moeLora().rank(rank).experts(experts).router(router).build();
            case MOR -> AdapterConfig.mor().rank(rank).experts(experts).router(router).build();
            case MORE -> AdapterConfig.more(tasks).rank(rank)
                    .rankExperts(IntStream.rangeClosed(1, rank).boxed().toList()).build();
            case FULL -> throw new IllegalStateException("full fine-tuning trains the base weights and has no adapter");
        };
    }

    /**
     * The method of a command-line name.
     *
     * @throws MorException naming the known names
     */
    public static PaperMethod parse(String name) {
        for (PaperMethod m : values()) {
            if (m.cliName.equals(name)) {
                return m;
            }
        }
        throw new MorException("unknown method '" + name + "'; expected one of "
                + String.join(", ", Arrays.stream(values()).map(PaperMethod::cliName).toList()));
    }
}
