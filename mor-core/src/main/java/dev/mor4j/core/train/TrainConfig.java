package dev.mor4j.core.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import dev.mor4j.core.MorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Training hyper-parameters, named as in Hugging Face {@code TrainingArguments} (snake_case in JSON). Every
 * field may be left out of the JSON and takes its default, except {@code max_steps}. The constructor checks
 * every value and throws a {@link MorException} naming the field and the accepted range.
 *
 * @param learningRate              peak learning rate (default {@code 2e-4})
 * @param weightDecay               AdamW's decoupled weight decay (default 0)
 * @param adamBeta1                 AdamW β₁ (default 0.9)
 * @param adamBeta2                 AdamW β₂ (default 0.999)
 * @param adamEpsilon               AdamW ε, added to {@code sqrt(v̂)} (default {@code 1e-8})
 * @param warmupRatio               fraction of {@code max_steps} spent warming up: {@code ceil(ratio·max_steps)}
 *                                  steps (default 0.03)
 * @param lrScheduler               schedule after warmup (default {@code linear})
 * @param maxSteps                  optimizer steps to train for (required, ≥ 1)
 * @param gradientAccumulationSteps micro-batches per optimizer step; their gradients are averaged (default 1)
 * @param maxGradNorm               global gradient norm clipping threshold; ≤ 0 disables clipping (default 1.0)
 * @param seed                      seed of everything random the trainer owns (default 42)
 * @param saveSteps                 checkpoint every this many steps; 0 saves only at the end (default 500)
 * @param saveTotalLimit            keep only the last this many checkpoints; 0 keeps all (default 0)
 * @param maxConsecutiveNonfinite   stop after this many consecutive steps skipped for NaN/Inf (default 5)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainConfig(
        double learningRate,
        double weightDecay,
        double adamBeta1,
        double adamBeta2,
        double adamEpsilon,
        double warmupRatio,
        LrSchedulerType lrScheduler,
        long maxSteps,
        int gradientAccumulationSteps,
        double maxGradNorm,
        long seed,
        long saveSteps,
        int saveTotalLimit,
        int maxConsecutiveNonfinite) {

    public TrainConfig {
        check("learning_rate", learningRate, learningRate > 0 && Double.isFinite(learningRate), "a finite value > 0");
        check("weight_decay", weightDecay, weightDecay >= 0 && Double.isFinite(weightDecay), "a finite value ≥ 0");
        check("adam_beta1", adamBeta1, adamBeta1 >= 0 && adamBeta1 < 1, "a value in [0, 1)");
        check("adam_beta2", adamBeta2, adamBeta2 >= 0 && adamBeta2 < 1, "a value in [0, 1)");
        check("adam_epsilon", adamEpsilon, adamEpsilon > 0 && Double.isFinite(adamEpsilon), "a finite value > 0");
        check("warmup_ratio", warmupRatio, warmupRatio >= 0 && warmupRatio <= 1, "a value in [0, 1]");
        if (lrScheduler == null) {
            throw new MorException("train config: lr_scheduler is missing: expected linear, cosine or constant");
        }
        check("max_steps", maxSteps, maxSteps >= 1, "an integer ≥ 1");
        check("gradient_accumulation_steps", gradientAccumulationSteps, gradientAccumulationSteps >= 1,
                "an integer ≥ 1");
        check("max_grad_norm", maxGradNorm, !Double.isNaN(maxGradNorm), "a number (≤ 0 disables clipping)");
        check("save_steps", saveSteps, saveSteps >= 0, "an integer ≥ 0 (0 saves only at the end)");
        check("save_total_limit", saveTotalLimit, saveTotalLimit >= 0, "an integer ≥ 0 (0 keeps all)");
        check("max_consecutive_nonfinite", maxConsecutiveNonfinite, maxConsecutiveNonfinite >= 1, "an integer ≥ 1");
    }

    /** Reads a config from JSON; fields left out take their defaults. */
    @JsonCreator
    static TrainConfig fromJson(
            @JsonProperty("learning_rate") Double learningRate,
            @JsonProperty("weight_decay") Double weightDecay,
            @JsonProperty("adam_beta1") Double adamBeta1,
            @JsonProperty("adam_beta2") Double adamBeta2,
            @JsonProperty("adam_epsilon") Double adamEpsilon,
            @JsonProperty("warmup_ratio") Double warmupRatio,
            @JsonProperty("lr_scheduler") LrSchedulerType lrScheduler,
            @JsonProperty("max_steps") Long maxSteps,
            @JsonProperty("gradient_accumulation_steps") Integer gradientAccumulationSteps,
            @JsonProperty("max_grad_norm") Double maxGradNorm,
            @JsonProperty("seed") Long seed,
            @JsonProperty("save_steps") Long saveSteps,
            @JsonProperty("save_total_limit") Integer saveTotalLimit,
            @JsonProperty("max_consecutive_nonfinite") Integer maxConsecutiveNonfinite) {
        Builder b = builder();
        if (learningRate != null) b.learningRate(learningRate);
        if (weightDecay != null) b.weightDecay(weightDecay);
        if (adamBeta1 != null) b.adamBeta1(adamBeta1);
        if (adamBeta2 != null) b.adamBeta2(adamBeta2);
        if (adamEpsilon != null) b.adamEpsilon(adamEpsilon);
        if (warmupRatio != null) b.warmupRatio(warmupRatio);
        if (lrScheduler != null) b.lrScheduler(lrScheduler);
        if (maxSteps != null) b.maxSteps(maxSteps);
        if (gradientAccumulationSteps != null) b.gradientAccumulationSteps(gradientAccumulationSteps);
        if (maxGradNorm != null) b.maxGradNorm(maxGradNorm);
        if (seed != null) b.seed(seed);
        if (saveSteps != null) b.saveSteps(saveSteps);
        if (saveTotalLimit != null) b.saveTotalLimit(saveTotalLimit);
        if (maxConsecutiveNonfinite != null) b.maxConsecutiveNonfinite(maxConsecutiveNonfinite);
        return b.build();
    }

    /**
     * Reads a config from a JSON file.
     *
     * @throws MorException naming the file and the offending key: an unknown key, a value of the wrong type or
     *                      out of range, or a missing {@code max_steps}
     */
    public static TrainConfig read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new MorException(file + ": not found; expected a JSON training config");
        }
        try {
            return new ObjectMapper().readValue(file.toFile(), TrainConfig.class);
        } catch (UnrecognizedPropertyException e) {
            throw new MorException(file + ": unknown key '" + e.getPropertyName() + "' in the training config; known keys: "
                    + e.getKnownPropertyIds(), e);
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() instanceof MorException ? e.getCause() : e;
            throw new MorException(file + ": " + (cause instanceof MorException ? cause.getMessage()
                    : "not a valid training config: " + e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new MorException(file + ": not a valid training config: " + e.getMessage(), e);
        }
    }

    /** A builder holding the defaults; {@code max_steps} must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values. */
    public Builder toBuilder() {
        return new Builder().learningRate(learningRate).weightDecay(weightDecay).adamBeta1(adamBeta1)
                .adamBeta2(adamBeta2).adamEpsilon(adamEpsilon).warmupRatio(warmupRatio).lrScheduler(lrScheduler)
                .maxSteps(maxSteps).gradientAccumulationSteps(gradientAccumulationSteps).maxGradNorm(maxGradNorm)
                .seed(seed).saveSteps(saveSteps).saveTotalLimit(saveTotalLimit)
                .maxConsecutiveNonfinite(maxConsecutiveNonfinite);
    }

    private static void check(String key, Object value, boolean ok, String expected) {
        if (!ok) {
            throw new MorException("train config: " + key + " is " + value + "; expected " + expected);
        }
    }

    /** Builds a {@link TrainConfig}; starts from the defaults. */
    public static final class Builder {
        private double learningRate = 2e-4;
        private double weightDecay = 0.0;
        private double adamBeta1 = 0.9;
        private double adamBeta2 = 0.999;
        private double adamEpsilon = 1e-8;
        private double warmupRatio = 0.03;
        private LrSchedulerType lrScheduler = LrSchedulerType.LINEAR;
        private long maxSteps = 0;
        private int gradientAccumulationSteps = 1;
        private double maxGradNorm = 1.0;
        private long seed = 42;
        private long saveSteps = 500;
        private int saveTotalLimit = 0;
        private int maxConsecutiveNonfinite = 5;

        private Builder() {
        }

        public Builder learningRate(double v) { learningRate = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder adamBeta1(double v) { adamBeta1 = v; return this; }
        public Builder adamBeta2(double v) { adamBeta2 = v; return this; }
        public Builder adamEpsilon(double v) { adamEpsilon = v; return this; }
        public Builder warmupRatio(double v) { warmupRatio = v; return this; }
        public Builder lrScheduler(LrSchedulerType v) { lrScheduler = v; return this; }
        public Builder maxSteps(long v) { maxSteps = v; return this; }
        public Builder gradientAccumulationSteps(int v) { gradientAccumulationSteps = v; return this; }
        public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder saveSteps(long v) { saveSteps = v; return this; }
        public Builder saveTotalLimit(int v) { saveTotalLimit = v; return this; }
        public Builder maxConsecutiveNonfinite(int v) { maxConsecutiveNonfinite = v; return this; }

        /** @throws MorException naming the first field out of range */
        public TrainConfig build() {
            return new TrainConfig(learningRate, weightDecay, adamBeta1, adamBeta2, adamEpsilon, warmupRatio,
                    lrScheduler, maxSteps, gradientAccumulationSteps, maxGradNorm, seed, saveSteps, saveTotalLimit,
                    maxConsecutiveNonfinite);
        }
    }
}
