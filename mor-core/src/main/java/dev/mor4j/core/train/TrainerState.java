package dev.mor4j.core.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * The contents of a checkpoint's {@code trainer_state.json}: where training stands, besides the arrays.
 *
 * <p>The trainer keeps no hidden random state: everything random is drawn from generators derived from
 * {@code (rng_seed, step, micro-batch)} (see {@link Seeds}), so the seed and the global step are the whole
 * random state.
 *
 * @param formatVersion        version of this file's layout ({@value #FORMAT_VERSION})
 * @param globalStep           optimizer steps done, skipped ones included; training resumes at this 0-based step
 * @param optimizerStep        updates the optimizer applied (its bias-correction step count)
 * @param consecutiveNonfinite steps skipped in a row for NaN/Inf just before this point
 * @param rngSeed              seed of the trainer's random generators
 * @param config               the configuration the run was started with
 * @param dataPosition         where the caller's data stood, as the caller described it (opaque), or null
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainerState(
        int formatVersion,
        long globalStep,
        long optimizerStep,
        int consecutiveNonfinite,
        long rngSeed,
        TrainConfig config,
        JsonNode dataPosition) {

    /** The layout version written by this code. */
    public static final int FORMAT_VERSION = 1;
}
