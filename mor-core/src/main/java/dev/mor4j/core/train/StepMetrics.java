package dev.mor4j.core.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * What happened in one optimizer step (snake_case in JSON).
 *
 * @param step            the global step after this one (1 for the first step), as Hugging Face logs it
 * @param loss            mean of the micro-batch losses, as the graph computed them
 * @param lr              learning rate of this step's update (also when the update was skipped)
 * @param gradNorm        global 2-norm of the averaged gradients before clipping
 * @param tokens          tokens in the step's micro-batches
 * @param tokensPerSecond tokens divided by the step's wall time
 * @param skipped         true when the update was skipped because a loss or gradient was NaN/Inf
 * @param skipReason      what was not finite, when skipped; otherwise null
 * @param elapsedSeconds  seconds since {@link Trainer#train()} started
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StepMetrics(
        long step,
        double loss,
        double lr,
        double gradNorm,
        long tokens,
        double tokensPerSecond,
        boolean skipped,
        String skipReason,
        double elapsedSeconds) {
}
