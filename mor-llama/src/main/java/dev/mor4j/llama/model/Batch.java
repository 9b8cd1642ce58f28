package dev.mor4j.llama.model;

import dev.mor4j.core.MorException;
import java.util.Arrays;

/**
 * A right-padded batch as transformers takes it.
 *
 * @param inputIds      {@code [B][T]} token ids
 * @param attentionMask {@code [B][T]}: 1 for real tokens, 0 for padding
 * @param labels        {@code [B][T]} target ids (unshifted, like transformers' {@code labels}), -100 to
 *                      ignore a position; null when no loss is wanted
 */
public record Batch(long[][] inputIds, long[][] attentionMask, long[][] labels) {

    public static final long IGNORE_INDEX = -100;

    public Batch {
        int b = inputIds.length;
        if (b == 0) {
            throw new MorException("input_ids: the batch is empty");
        }
        int t = inputIds[0].length;
        if (t == 0) {
            throw new MorException("input_ids: sequences are empty");
        }
        checkShape("input_ids", inputIds, b, t);
        if (attentionMask == null) {
            attentionMask = new long[b][t];
            for (long[] row : attentionMask) {
                Arrays.fill(row, 1);
            }
        }
        checkShape("attention_mask", attentionMask, b, t);
        if (labels != null) {
            checkShape("labels", labels, b, t);
        }
    }

    private static void checkShape(String name, long[][] a, int b, int t) {
        if (a.length != b) {
            throw new MorException(name + ": expected " + b + " rows, got " + a.length);
        }
        for (int i = 0; i < a.length; i++) {
            if (a[i].length != t) {
                throw new MorException(name + "[" + i + "]: expected length " + t + ", got " + a[i].length);
            }
        }
    }

    public int batchSize() {
        return inputIds.length;
    }

    public int seqLen() {
        return inputIds[0].length;
    }

    /** Number of real tokens. */
    public long tokenCount() {
        long n = 0;
        for (long[] row : attentionMask) {
            for (long m : row) {
                n += m != 0 ? 1 : 0;
            }
        }
        return n;
    }
}
