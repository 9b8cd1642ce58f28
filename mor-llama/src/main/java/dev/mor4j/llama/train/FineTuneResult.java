package dev.mor4j.llama.train;

import dev.mor4j.core.train.StepMetrics;
import java.nio.file.Path;
import java.util.List;

/**
 * What a call of {@link LlamaFineTune#train()} did.
 *
 * @param globalStep the optimizer steps done in the whole run (a resumed run counts the earlier ones)
 * @param steps      the metrics of the steps run by this call, in order
 * @param adapter    the directory the final adapter was written to, or null when no output directory was set
 *                   or training stopped before {@code max_steps}
 */
public record FineTuneResult(long globalStep, List<StepMetrics> steps, Path adapter) {

    /** Mean loss of the first {@code n} steps of this call. */
    public double meanLossOfFirst(int n) {
        return steps.subList(0, Math.min(n, steps.size())).stream().mapToDouble(StepMetrics::loss).average()
                .orElse(Double.NaN);
    }

    /** Mean loss of the last {@code n} steps of this call. */
    public double meanLossOfLast(int n) {
        return steps.subList(Math.max(0, steps.size() - n), steps.size()).stream().mapToDouble(StepMetrics::loss)
                .average().orElse(Double.NaN);
    }
}
