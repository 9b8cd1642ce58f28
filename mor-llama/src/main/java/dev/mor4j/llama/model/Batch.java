package dev.mor4j.llama.model;

import dev.mor4j.core.MorException;
import java.io.Serializable;
import java.util.Arrays;

/**
 * A right-padded batch as transformers takes it.
 *
 * <p>Each row holds one example. Adapters that adapt per example (MoRE) read, for every example, its task id
 * ({@link #taskIds()}) and, for every token, the example it belongs to ({@link #exampleOfToken()}).
 *
 * @param inputIds      {@code [B][T]} token ids
 * @param attentionMask {@code [B][T]}: 1 for real tokens, 0 for padding
 * @param labels        {@code [B][T]} target ids (unshifted, like transformers' {@code labels}), -100 to
 *                      ignore a position; null when no loss is wanted
 * @param taskIds       {@code [examples]} each example's task id (an index into a MoRE adapter's {@code tasks});
 *                      null when the batch carries no tasks
 */
public record Batch(long[][] inputIds, long[][] attentionMask, long[][] labels, long[] taskIds)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final long IGNORE_INDEX = -100;

    /** A batch without task ids. */
    public Batch(long[][] inputIds, long[][] attentionMask, long[][] labels) {
        this(inputIds, attentionMask, labels, null);
    }

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
        if (taskIds != null && taskIds.length != b) {
            throw new MorException("task_ids: expected " + b + " (one per example), got " + taskIds.length);
        }
    }

    /** This batch with each example's task id ({@code [examples]}). */
    public Batch withTaskIds(long[] ids) {
        return new Batch(inputIds, attentionMask, labels, ids);
    }

    /** The number of examples: one per row. */
    public int exampleCount() {
        return inputIds.length;
    }

    /**
     * The example each position belongs to, {@code [B·T]} row-major: the row's example (padding included, whose
     * outputs are never read).
     */
    public int[] exampleOfToken() {
        int b = batchSize();
        int t = seqLen();
        int[] out = new int[b * t]; // [B·T]
        for (int i = 0; i < b; i++) {
            Arrays.fill(out, i * t, (i + 1) * t, i);
        }
        return out;
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
