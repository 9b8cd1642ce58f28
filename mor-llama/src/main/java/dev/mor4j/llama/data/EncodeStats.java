package dev.mor4j.llama.data;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counts kept by {@link TuluEncoder#encodeAll(java.util.stream.Stream, EncodeStats)}: how many conversations were
 * encoded, how many were cut at the maximum length, and how many were dropped because truncation left no
 * assistant token to train on. Thread-safe.
 */
public final class EncodeStats {

    private final LongAdder encoded = new LongAdder();
    private final LongAdder truncated = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder trainableTokens = new LongAdder();

    void record(EncodedExample example, boolean wasTruncated) {
        encoded.increment();
        if (wasTruncated) {
            truncated.increment();
        }
        int trainable = example.trainableTokens();
        if (trainable == 0) {
            dropped.increment();
        }
        trainableTokens.add(trainable);
    }

    /** Conversations encoded (kept and dropped). */
    public long encoded() {
        return encoded.sum();
    }

    /** Conversations longer than the maximum sequence length (kept or dropped). */
    public long truncated() {
        return truncated.sum();
    }

    /** Conversations dropped because every label was {@link TuluEncoder#IGNORE_INDEX}. */
    public long droppedWithoutTrainableTokens() {
        return dropped.sum();
    }

    /** Conversations kept. */
    public long kept() {
        return encoded() - droppedWithoutTrainableTokens();
    }

    /** Positions that count in the loss, over the kept examples. */
    public long trainableTokens() {
        return trainableTokens.sum();
    }

    @Override
    public String toString() {
        return kept() + " of " + encoded() + " conversations kept (" + truncated() + " truncated, "
                + droppedWithoutTrainableTokens() + " dropped with no assistant token left), " + trainableTokens()
                + " trainable tokens";
    }
}
