package dev.mor4j.llama.model;

import dev.mor4j.core.MorException;
import java.io.Serializable;
import java.util.Arrays;

/**
 * A right-padded batch as transformers takes it, with one example per row or several packed into a row.
 *
 * <p>Unpacked ({@code exampleOf} null), row {@code i} holds example {@code i}. Packed, as transformers'
 * padding-free collators lay examples out, {@code exampleOf[i][j]} names the example position {@code j} of row
 * {@code i} belongs to: each example fills one contiguous run of one row, attends only to itself (a
 * block-diagonal causal mask) and its rotary positions restart at 0 ({@link #positions()}). A packed example's
 * first label is {@link #IGNORE_INDEX}, so that the previous example's last token predicts nothing.
 *
 * <p>Adapters that adapt per example (MoRE) read, for every example, its task id ({@link #taskIds()}) and, for
 * every token, the example it belongs to ({@link #exampleOfToken()}).
 *
 * @param inputIds      {@code [B][T]} token ids
 * @param attentionMask {@code [B][T]}: 1 for real tokens, 0 for padding
 * @param labels        {@code [B][T]} target ids (unshifted, like transformers' {@code labels}), -100 to
 *                      ignore a position; null when no loss is wanted
 * @param taskIds       {@code [examples]} each example's task id (an index into a MoRE adapter's {@code tasks});
 *                      null when the batch carries no tasks
 * @param exampleOf     {@code [B][T]} the example (0 … examples−1) of each position when examples are packed;
 *                      null for one example per row. Padding positions belong to an example of their row.
 */
public record Batch(long[][] inputIds, long[][] attentionMask, long[][] labels, long[] taskIds, int[][] exampleOf)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final long IGNORE_INDEX = -100;

    /** A batch with one example per row and without task ids. */
    public Batch(long[][] inputIds, long[][] attentionMask, long[][] labels) {
        this(inputIds, attentionMask, labels, null, null);
    }

    /** A batch with one example per row. */
    public Batch(long[][] inputIds, long[][] attentionMask, long[][] labels, long[] taskIds) {
        this(inputIds, attentionMask, labels, taskIds, null);
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
        int examples = b;
        if (exampleOf != null) {
            examples = PackedLayout.check(exampleOf, attentionMask);
        }
        if (taskIds != null && taskIds.length != examples) {
            throw new MorException("task_ids: expected " + examples + " (one per example), got " + taskIds.length);
        }
    }

    /** This batch with each example's task id ({@code [examples]}). */
    public Batch withTaskIds(long[] ids) {
        return new Batch(inputIds, attentionMask, labels, ids, exampleOf);
    }

    /** Whether rows hold packed examples ({@link #exampleOf()} is set). */
    public boolean isPacked() {
        return exampleOf != null;
    }

    /** The number of examples: one per row, or the packed examples. */
    public int exampleCount() {
        if (exampleOf == null) {
            return inputIds.length;
        }
        int max = -1;
        for (int[] row : exampleOf) {
            for (int e : row) {
                max = Math.max(max, e);
            }
        }
        return max + 1;
    }

    /**
     * The example each position belongs to, {@code [B·T]} row-major: the row's example when unpacked, the packed
     * example otherwise (padding included, whose outputs are never read).
     */
    public int[] exampleOfToken() {
        int b = batchSize();
        int t = seqLen();
        int[] out = new int[b * t]; // [B·T]
        for (int i = 0; i < b; i++) {
            if (exampleOf == null) {
                Arrays.fill(out, i * t, (i + 1) * t, i);
            } else {
                System.arraycopy(exampleOf[i], 0, out, i * t, t);
            }
        }
        return out;
    }

    /**
     * Each position's rotary position, {@code [B·T]} row-major: its offset from the first position of its example,
     * which is the column {@code j} when unpacked.
     */
    public int[] positions() {
        int b = batchSize();
        int t = seqLen();
        int[] out = new int[b * t]; // [B·T]
        for (int i = 0; i < b; i++) {
            int start = 0;
            for (int j = 0; j < t; j++) {
                if (exampleOf != null && j > 0 && exampleOf[i][j] != exampleOf[i][j - 1]) {
                    start = j;
                }
                out[i * t + j] = j - start;
            }
        }
        return out;
    }

    /**
     * Whether query position {@code q} of row {@code row} attends key position {@code k}: causal ({@code k ≤ q}),
     * not padding, and, when packed, of the same example.
     */
    public boolean attends(int row, int q, int k) {
        return k <= q && attentionMask[row][k] != 0 && (exampleOf == null || exampleOf[row][q] == exampleOf[row][k]);
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
