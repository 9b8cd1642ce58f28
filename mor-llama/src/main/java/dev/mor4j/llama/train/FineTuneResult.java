package dev.mor4j.llama.train;

import dev.mor4j.core.train.StepMetrics;
import dev.mor4j.llama.model.Batch;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a call of {@link LlamaFineTune#train()} did.
 *
 * @param globalStep the optimizer steps done in the whole run (a resumed run counts the earlier ones)
 * @param steps      the metrics of the steps run by this call, in order
 * @param adapter    the directory the final adapter was written to (for full fine-tuning the final model,
 *                   {@code <out>/final}), or null when no output directory was set or training stopped before
 *                   {@code max_steps}
 * @param tokens     the real and computed positions of this call's micro-batches
 */
public record FineTuneResult(long globalStep, List<StepMetrics> steps, Path adapter, Tokens tokens) {

    /**
     * Tokens of the micro-batches run: real ones (attention 1) against all positions computed ({@code B·T} per
     * micro-batch, padding included).
     *
     * @param real      real tokens
     * @param positions positions computed
     * @param rows      rows of the micro-batches
     * @param examples  examples in them
     */
    public record Tokens(long real, long positions, long rows, long examples) {

        /** No micro-batch yet. */
        public static final Tokens NONE = new Tokens(0, 0, 0, 0);

        /** These counts and a micro-batch's. */
        public Tokens plus(Batch b) {
            return new Tokens(real + b.tokenCount(), positions + (long) b.batchSize() * b.seqLen(),
                    rows + b.batchSize(), examples + b.exampleCount());
        }

        /** Padding positions: computed but not real. */
        public long padding() {
            return positions - real;
        }

        /** E.g. {@code 1,234 real of 1,500 computed (17.7 % padding); 40 examples in 22 rows}. */
        public String format() {
            return String.format(Locale.ROOT, "%,d real of %,d computed (%.1f %% padding); %,d examples in %,d rows",
                    real, positions, positions == 0 ? 0.0 : 100.0 * padding() / positions, examples, rows);
        }
    }

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
