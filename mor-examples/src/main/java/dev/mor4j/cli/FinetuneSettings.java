package dev.mor4j.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterConfigBuilder;
import dev.mor4j.core.adapter.MorForm;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.train.LrSchedulerType;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.train.FineTuneOptions;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Everything {@code mor finetune} was asked to do, one field per flag (the flag's name in snake_case), as saved
 * in the run's {@code config.json} and read back by {@code --resume}. Paths are absolute. MoRE's flags
 * ({@code rank_experts}, {@code task_loss_weight}, {@code task_temperature}, {@code tasks}) are null when not given:
 * {@link AdapterConfig#moreDefaults} then applies, and the tasks come from the data. {@code form} (how MoR computes its
 * sum over experts, {@link MorForm}) is recorded for every MoR run, {@code expanded} when not given; it changes the
 * cost of a step, not the result, and is not part of the adapter.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
record FinetuneSettings(
        String model,
        String tokenizer,
        String data,
        int maxLen,
        boolean strict,
        String method,
        String router,
        int topK,
        int experts,
        int rank,
        double alpha,
        double dropout,
        List<String> targets,
        double lr,
        String schedule,
        double warmupRatio,
        Double epochs,
        Long maxSteps,
        int batch,
        int gradAccum,
        long seed,
        long saveSteps,
        int saveTotalLimit,
        double weightDecay,
        double maxGradNorm,
        boolean groupByLength,
        String lossReduction,
        String packing,
        List<Integer> rankExperts,
        Double taskLossWeight,
        Double taskTemperature,
        List<String> tasks,
        String form) {

    static final List<String> METHODS = List.of("mor", "lora", "dora", "moelora", "more", "full");
    static final List<String> ROUTERS = List.of("softmax", "mean", "balanced", "topk");
    static final List<String> SCHEDULES = List.of("linear", "cosine", "constant");
    static final List<String> REDUCTIONS = List.of("mean", "sum");
    static final List<String> SWITCHES = List.of("on", "off");
    static final List<String> FORMS = Arrays.stream(MorForm.values()).map(MorForm::cliName).toList();

    /** Checks the values a flag can get wrong; the records built from them check the rest. */
    void validate() {
        oneOf("--method", method, METHODS);
        oneOf("--router", router, ROUTERS);
        oneOf("--schedule", schedule, SCHEDULES);
        oneOf("--loss-reduction", lossReduction, REDUCTIONS);
        oneOf("--packing", packing, SWITCHES);
        if (form != null) {
            oneOf("--form", form, FORMS);
            if (!method.equals("mor")) {
                throw new MorException("--form is for --method mor only (the method is '" + method + "')");
            }
        }
        atLeast("--max-len", maxLen, 2);
        atLeast("--rank", rank, 1);
        atLeast("--experts", experts, 1);
        atLeast("--batch", batch, 1);
        atLeast("--grad-accum", gradAccum, 1);
        if (!(dropout >= 0 && dropout < 1)) {
            throw new MorException("--dropout is " + dropout + "; expected a probability in [0, 1)");
        }
        if (!(alpha > 0)) {
            throw new MorException("--alpha is " + alpha + "; expected a number > 0");
        }
        if (targets == null || targets.isEmpty()) {
            throw new MorException("--targets is empty; expected module names such as gate_proj,up_proj,down_proj");
        }
        if (router.equals("topk") && (topK < 1 || topK > experts)) {
            throw new MorException("--top-k is " + topK + "; expected 1 to --experts (" + experts + ")");
        }
        validateMore();
        if (epochs != null && maxSteps != null) {
            throw new MorException("--epochs and --max-steps both given; training length is one or the other");
        }
        if (epochs != null && !(epochs > 0 && Double.isFinite(epochs))) {
            throw new MorException("--epochs is " + epochs + "; expected a number > 0");
        }
        if (maxSteps != null && maxSteps < 1) {
            throw new MorException("--max-steps is " + maxSteps + "; expected an integer ≥ 1");
        }
    }

    /** True for {@code --method full}: every base weight trained, no adapter. */
    boolean isFull() {
        return "full".equals(method);
    }

    /** True for {@code --method more}. */
    boolean isMore() {
        return "more".equals(method);
    }

    /** MoRE's flags: only with {@code --method more}, ranks increasing within the rank, λ ≥ 0, τ > 0, tasks once each. */
    private void validateMore() {
        if (!isMore()) {
            moreOnly("--rank-experts", rankExperts);
            moreOnly("--task-loss-weight", taskLossWeight);
            moreOnly("--task-temperature", taskTemperature);
            moreOnly("--tasks", tasks);
            return;
        }
        if (rankExperts != null) {
            if (rankExperts.isEmpty()) {
                throw new MorException("--rank-experts is empty; expected ranks such as 1,2,4," + rank);
            }
            int previous = 0;
            for (Integer k : rankExperts) {
                if (k == null || k <= previous || k > rank) {
                    throw new MorException("--rank-experts is " + rankExperts + "; expected ranks that increase"
                            + " strictly within 1.." + rank + " (--rank), e.g. 1,2,4," + rank);
                }
                previous = k;
            }
        }
        if (taskLossWeight != null && !(taskLossWeight >= 0 && Double.isFinite(taskLossWeight))) {
            throw new MorException("--task-loss-weight is " + taskLossWeight + "; expected a number ≥ 0");
        }
        if (taskTemperature != null && !(taskTemperature > 0 && Double.isFinite(taskTemperature))) {
            throw new MorException("--task-temperature is " + taskTemperature + "; expected a number > 0");
        }
        if (tasks != null) {
            if (tasks.isEmpty()) {
                throw new MorException("--tasks is empty; expected dataset names such as flan_v2,oasst1");
            }
            for (int i = 0; i < tasks.size(); i++) {
                if (tasks.get(i) == null || tasks.get(i).isBlank()) {
                    throw new MorException("--tasks " + tasks + ": task " + (i + 1) + " is blank");
                }
                if (tasks.indexOf(tasks.get(i)) != i) {
                    throw new MorException("--tasks " + tasks + ": '" + tasks.get(i) + "' is listed twice");
                }
            }
        }
    }

    /**
     * The adapter to train, in PEFT's terms (not for {@code --method full}, which has none); MoRE's is
     * {@link AdapterConfig#more} with the flags given applied and its rank experts listed.
     *
     * @param taskNames MoRE's tasks in task-id order (ignored by the other methods)
     */
    AdapterConfig adapterConfig(List<String> taskNames) {
        if (isFull()) {
            throw new IllegalStateException("--method full trains the base weights and has no adapter config");
        }
        if (isMore()) {
            return AdapterConfig.more(taskNames).rank(rank).alpha(alpha).dropout(dropout).targetModules(targets)
                    // rank_experts written out even as the default 1…r
                    .rankExperts(rankExperts != null ? rankExperts : IntStream.rangeClosed(1, rank).boxed().toList())
                    .taskLossWeight(taskLossWeight != null ? taskLossWeight : AdapterConfig.DEFAULT_TASK_LOSS_WEIGHT)
                    .taskTemperature(taskTemperature != null ? taskTemperature : AdapterConfig.DEFAULT_TASK_TEMPERATURE)
                    .build();
        }
        AdapterConfigBuilder b = switch (method) {
            case "mor" -> AdapterConfig.mor();
            case "moelora" -> AdapterConfig.moeLora();
            case "dora" -> AdapterConfig.dora();
            default -> AdapterConfig.lora();
        };
        b.rank(rank).alpha(alpha).dropout(dropout).targetModules(targets);
        if (method.equals("mor") || method.equals("moelora")) {
            b.experts(experts).router(RouterType.parse(router)).topK(topK);
        }
        return b.build();
    }

    /** The optimizer settings; {@code steps} is the resolved number of optimizer steps. */
    TrainConfig trainConfig(long steps) {
        return TrainConfig.builder().learningRate(lr).weightDecay(weightDecay).warmupRatio(warmupRatio)
                .lrScheduler(LrSchedulerType.valueOf(schedule.toUpperCase(Locale.ROOT))).maxSteps(steps)
                .gradientAccumulationSteps(gradAccum).maxGradNorm(maxGradNorm).seed(seed).saveSteps(saveSteps)
                .saveTotalLimit(saveTotalLimit).build();
    }

    /** How MoR computes its sum over experts ({@code --form}); {@link MorForm#EXPANDED} when not given. */
    MorForm morForm() {
        return form == null ? MorForm.EXPANDED : MorForm.parse(form);
    }

    /** Whether micro-batches are packed ({@code --packing on}). */
    boolean packed() {
        return packing.equals("on");
    }

    FineTuneOptions options() {
        return new FineTuneOptions(batch, groupByLength,
                LlamaFeeds.Reduction.valueOf(lossReduction.toUpperCase(Locale.ROOT)));
    }

    private void moreOnly(String flag, Object value) {
        if (value != null) {
            throw new MorException(flag + " is for --method more only (the method is '" + method + "')");
        }
    }

    private static void oneOf(String flag, String value, List<String> allowed) {
        if (value == null || !allowed.contains(value)) {
            throw new MorException(flag + " is '" + value + "'; expected one of " + String.join(", ", allowed));
        }
    }

    private static void atLeast(String flag, long value, long min) {
        if (value < min) {
            throw new MorException(flag + " is " + value + "; expected an integer ≥ " + min);
        }
    }
}
