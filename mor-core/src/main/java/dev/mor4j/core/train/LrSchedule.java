package dev.mor4j.core.train;

/**
 * The learning rate at each optimizer step, with exactly the formulas of Hugging Face {@code transformers}
 * ({@code get_linear_schedule_with_warmup}, {@code get_cosine_schedule_with_warmup} with half a cycle,
 * {@code get_constant_schedule}, {@code get_constant_schedule_with_warmup}) as driven by PyTorch's
 * {@code LambdaLR}: the rate used by the update at 0-based step {@code k} is {@code base_lr · λ(k)}. With
 * warmup the first update therefore uses a rate of 0, as in Hugging Face.
 *
 * <p>The number of warmup steps is {@code ceil(total · warmup_ratio)}, as {@code TrainingArguments} computes
 * it when no explicit {@code warmup_steps} is given.
 */
public final class LrSchedule {

    private final LrSchedulerType type;
    private final double baseLr;
    private final long warmupSteps;
    private final long totalSteps;

    /**
     * @param type        the schedule
     * @param baseLr      the peak learning rate
     * @param warmupSteps steps of linear warmup from 0 (ignored by {@link LrSchedulerType#CONSTANT})
     * @param totalSteps  total optimizer steps (the decay reaches 0 there)
     */
    public LrSchedule(LrSchedulerType type, double baseLr, long warmupSteps, long totalSteps) {
        if (type == null) {
            throw new IllegalArgumentException("schedule type is null");
        }
        if (warmupSteps < 0 || totalSteps < 0) {
            throw new IllegalArgumentException("warmup " + warmupSteps + " and total " + totalSteps
                    + " must be non-negative");
        }
        this.type = type;
        this.baseLr = baseLr;
        this.warmupSteps = warmupSteps;
        this.totalSteps = totalSteps;
    }

    /** The schedule a training configuration asks for. */
    public static LrSchedule of(TrainConfig config) {
        long total = config.maxSteps();
        return new LrSchedule(config.lrScheduler(), config.learningRate(), warmupSteps(total, config.warmupRatio()),
                total);
    }

    /** {@code ceil(totalSteps · ratio)}, Hugging Face's warmup step count for a warmup ratio. */
    public static long warmupSteps(long totalSteps, double ratio) {
        return (long) Math.ceil(totalSteps * ratio);
    }

    public long warmupSteps() {
        return warmupSteps;
    }

    public long totalSteps() {
        return totalSteps;
    }

    /** The learning rate used by the update at 0-based optimizer step {@code step}. */
    public double lr(long step) {
        return baseLr * factor(step);
    }

    /** The multiplier {@code λ(step)} of the base rate. */
    public double factor(long step) {
        if (type == LrSchedulerType.CONSTANT) {
            return 1.0;
        }
        if (step < warmupSteps) {
            return (double) step / (double) Math.max(1L, warmupSteps);
        }
        switch (type) {
            case LINEAR:
                return Math.max(0.0, (double) (totalSteps - step) / (double) Math.max(1L, totalSteps - warmupSteps));
            case COSINE: {
                double progress = (double) (step - warmupSteps) / (double) Math.max(1L, totalSteps - warmupSteps);
                return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
            }
            case CONSTANT_WITH_WARMUP:
                return 1.0;
            default:
                throw new AssertionError(type);
        }
    }
}
