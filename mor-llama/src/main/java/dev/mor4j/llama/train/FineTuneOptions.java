package dev.mor4j.llama.train;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.model.LlamaFeeds;

/**
 * How fine-tuning batches its data and reduces the loss (snake_case in JSON); the optimizer's settings are in
 * {@link dev.mor4j.core.train.TrainConfig}.
 *
 * @param batchSize     examples per micro-batch (Hugging Face's {@code per_device_train_batch_size})
 * @param groupByLength batch examples of similar length together ({@link BatchOrder})
 * @param lossReduction {@code MEAN}: each micro-batch's loss is the mean over its counted tokens (transformers'
 *                      causal-LM loss, the default); {@code SUM}: their sum, so long answers weigh more
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record FineTuneOptions(int batchSize, boolean groupByLength, LlamaFeeds.Reduction lossReduction) {

    public FineTuneOptions {
        if (batchSize < 1) {
            throw new MorException("batch_size is " + batchSize + "; expected an integer ≥ 1");
        }
        if (lossReduction == null) {
            throw new MorException("loss_reduction is missing; expected MEAN or SUM");
        }
    }

    /** Batch size 4, no length grouping, mean loss. */
    public static FineTuneOptions defaults() {
        return new FineTuneOptions(4, false, LlamaFeeds.Reduction.MEAN);
    }

    public FineTuneOptions withBatchSize(int size) {
        return new FineTuneOptions(size, groupByLength, lossReduction);
    }

    public FineTuneOptions withGroupByLength(boolean group) {
        return new FineTuneOptions(batchSize, group, lossReduction);
    }

    public FineTuneOptions withLossReduction(LlamaFeeds.Reduction reduction) {
        return new FineTuneOptions(batchSize, groupByLength, reduction);
    }
}
