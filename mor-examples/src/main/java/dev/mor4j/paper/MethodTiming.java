package dev.mor4j.paper;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * How long a method's runs take, from a short timed run ({@link TimingProbe}): a few steps at the experiment's
 * batch and length, then the evaluation of a few test items per task.
 *
 * @param method              the method's name
 * @param trainableParameters parameters it trains
 * @param secondsPerStep      wall-clock of one optimizer step (after the first)
 * @param setupSeconds        building the run and its first step, beyond one step's time
 * @param evalSetupSeconds    building the evaluation's graphs (the same for any number of test items)
 * @param sampleItemSeconds   evaluating {@code sampleItemsPerTask} test items of each task (both formats, and the
 *                            router weights on their prompts)
 * @param sampleItemsPerTask  the test items per task of that evaluation
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record MethodTiming(String method, long trainableParameters, double secondsPerStep, double setupSeconds,
        double evalSetupSeconds, double sampleItemSeconds, int sampleItemsPerTask) {

    /** Seconds of one run of {@code steps} steps, without its evaluation. */
    public double trainingSeconds(long steps) {
        return setupSeconds + steps * secondsPerStep;
    }

    /** Seconds of evaluating {@code itemsPerTask} test items per task, the items' part scaled from the sample. */
    public double evalSeconds(int itemsPerTask) {
        return evalSetupSeconds + sampleItemSeconds * itemsPerTask / sampleItemsPerTask;
    }

    /**
     * Seconds of a validation loss over {@code examples} examples: a forward pass per batch, counted as half a
     * training step (a forward pass is about a third of a step's forward and backward passes), plus building its
     * graph (counted as the evaluation's).
     */
    public double validationSeconds(int examples, int batch) {
        return evalSetupSeconds + Math.ceil(examples / (double) batch) * secondsPerStep * 0.5;
    }
}
