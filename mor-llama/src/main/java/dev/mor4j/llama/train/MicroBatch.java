package dev.mor4j.llama.train;

import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import java.io.Serializable;
import java.util.List;

/**
 * One micro-batch of training data.
 *
 * @param examples the examples, in the batch's example order: example {@code k} of {@code batch} (its row when
 *                 padded, {@link Batch#exampleOf()} when packed) is {@code examples.get(k)}
 * @param batch    the examples right-padded one per row ({@link BatchCollator}) or packed ({@link PackingCollator})
 * @param epoch    the epoch it belongs to (0-based)
 * @param index    its batch index within the epoch
 */
public record MicroBatch(List<EncodedExample> examples, Batch batch, long epoch, int index) implements Serializable {

    private static final long serialVersionUID = 1L;
}
