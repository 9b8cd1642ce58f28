package dev.mor4j.llama.train;

import dev.mor4j.core.MorException;
import dev.mor4j.core.train.Seeds;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Which examples form each batch of each epoch.
 *
 * <p>Every epoch visits every example once, in the order {@link Seeds#permutation(int, long, long)} draws for
 * {@code (seed, epoch)}, cut into batches of {@code batchSize} (the last one smaller when the count does not
 * divide). With {@code groupByLength}, as Hugging Face's {@code LengthGroupedSampler}, the shuffled order is cut
 * into mega-batches of {@value #MEGA_BATCH_MULT}·{@code batchSize} examples, each sorted by length, longest
 * first (ties keep the shuffled order), so that a batch holds examples of similar length and little padding.
 *
 * <p>The order depends only on the lengths, the seed and the epoch: a resumed run sees the same batches.
 */
public final class BatchOrder {

    /** Mega-batch size, in batches, of length grouping (Hugging Face's default). */
    public static final int MEGA_BATCH_MULT = 50;

    private final int[] lengths;
    private final int batchSize;
    private final long seed;
    private final boolean groupByLength;
    private long cachedEpoch = -1;
    private int[] cachedOrder;

    /**
     * @param lengths       token count of each example
     * @param batchSize     examples per batch, ≥ 1
     * @param seed          the run's seed
     * @param groupByLength put examples of similar length together
     */
    public BatchOrder(int[] lengths, int batchSize, long seed, boolean groupByLength) {
        if (lengths.length == 0) {
            throw new MorException("no examples to train on");
        }
        if (batchSize < 1) {
            throw new MorException("batch size is " + batchSize + "; expected an integer ≥ 1");
        }
        this.lengths = lengths.clone();
        this.batchSize = batchSize;
        this.seed = seed;
        this.groupByLength = groupByLength;
    }

    /** Number of examples. */
    public int examples() {
        return lengths.length;
    }

    public int batchSize() {
        return batchSize;
    }

    public boolean groupByLength() {
        return groupByLength;
    }

    /** Batches per epoch: {@code ceil(examples / batchSize)}. */
    public int batchesPerEpoch() {
        return (lengths.length + batchSize - 1) / batchSize;
    }

    /**
     * The example indices of batch {@code index} of epoch {@code epoch}.
     *
     * @param index in {@code [0, batchesPerEpoch())}
     */
    public int[] batch(long epoch, int index) {
        if (epoch < 0 || index < 0 || index >= batchesPerEpoch()) {
            throw new IllegalArgumentException("batch " + index + " of epoch " + epoch + " does not exist ("
                    + batchesPerEpoch() + " batches per epoch)");
        }
        int[] order = order(epoch);
        int from = index * batchSize;
        return Arrays.copyOfRange(order, from, Math.min(from + batchSize, order.length));
    }

    /** The order in which epoch {@code epoch} visits the examples. */
    public synchronized int[] order(long epoch) {
        if (epoch != cachedEpoch) {
            cachedOrder = computeOrder(epoch);
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }

    private int[] computeOrder(long epoch) {
        int[] perm = Seeds.permutation(lengths.length, seed, epoch);
        if (!groupByLength) {
            return perm;
        }
        int mega = batchSize * MEGA_BATCH_MULT;
        int[] out = new int[perm.length];
        for (int from = 0; from < perm.length; from += mega) {
            int to = Math.min(from + mega, perm.length);
            Integer[] chunk = IntStream.of(perm).skip(from).limit(to - from).boxed().toArray(Integer[]::new);
            Arrays.sort(chunk, Comparator.comparingInt((Integer i) -> lengths[i]).reversed()); // stable
            for (int k = 0; k < chunk.length; k++) {
                out[from + k] = chunk[k];
            }
        }
        return out;
    }
}
