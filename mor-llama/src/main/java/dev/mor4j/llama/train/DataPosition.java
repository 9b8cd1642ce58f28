package dev.mor4j.llama.train;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * Where training stands in its data, saved in every checkpoint (as {@code data_position} of
 * {@code trainer_state.json}) so that a resumed run continues with exactly the micro-batch an uninterrupted
 * run would have taken next.
 *
 * @param microBatches  micro-batches consumed since the run began
 * @param epoch         the epoch of the next micro-batch (0-based)
 * @param batchInEpoch  the index of the next batch within that epoch
 * @param examples      examples in the training data
 * @param batchSize     examples per batch
 * @param groupByLength whether batches group examples of similar length
 * @param fingerprint   a hash of every example (dataset, id, tokens, labels) in order, as 16 hex digits:
 *                      resuming on other data is refused
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonIgnoreProperties(ignoreUnknown = true)
public record DataPosition(
        long microBatches,
        long epoch,
        int batchInEpoch,
        int examples,
        int batchSize,
        boolean groupByLength,
        String fingerprint) {
}
