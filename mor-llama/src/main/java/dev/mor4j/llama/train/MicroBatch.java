package dev.mor4j.llama.train;

import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import java.io.Serializable;
import java.util.List;

/**
 * One micro-batch of training data.
 *
 * @param examples the examples, in row order
 * @param batch    the examples right-padded ({@link BatchCollator})
 * @param epoch    the epoch it belongs to (0-based)
 * @param index    its batch index within the epoch
 */
public record MicroBatch(List<EncodedExample> examples, Batch batch, long epoch, int index) implements Serializable {

    private static final long serialVersionUID = 1L;
}
