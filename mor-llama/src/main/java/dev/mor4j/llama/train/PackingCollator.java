package dev.mor4j.llama.train;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Packs encoded examples into as few rows as first-fit decreasing finds, as transformers' padding-free
 * collators ({@code DataCollatorWithFlattening}) lay out examples: each example whole in one row, attending only
 * to itself, with its rotary positions restarting at 0 and its first label {@link Batch#IGNORE_INDEX} (the
 * previous example's last token predicts nothing). The loss and its gradient are those of the same examples
 * right-padded one per row ({@link BatchCollator}): the same tokens see the same context at the same
 * positions, and the same labels count.
 *
 * <p>Placement: examples are taken longest first (ties in batch order), each into the first row with room
 * for it, a new row when none has; rows hold at most {@code rowLength} tokens, and the batch is as long as its
 * fullest row. Padding (id {@value BatchCollator#PAD_ID}, attention 0, label −100) fills each row's end and
 * belongs to the row's last example. Example {@code k} of the batch ({@link Batch#exampleOf()}) is
 * {@code examples.get(k)}, wherever it was placed, so per-example data (task ids) keeps the batch order.
 */
public final class PackingCollator {

    private PackingCollator() {
    }

    /**
     * @param examples  at least one example, each with 1 to {@code rowLength} tokens
     * @param rowLength the most tokens a row holds (the run's max length)
     * @return a packed batch of at most {@code examples.size()} rows
     * @throws MorException when there is no example, or an example is empty or longer than a row
     */
    public static Batch pack(List<EncodedExample> examples, int rowLength) {
        if (examples.isEmpty()) {
            throw new MorException("cannot build a batch from no examples");
        }
        for (EncodedExample e : examples) {
            if (e.length() == 0) {
                throw new MorException("example " + e.id() + " has no tokens; expected at least BOS");
            }
            if (e.length() > rowLength) {
                throw new MorException("example " + e.id() + " has " + e.length() + " tokens; a packed row holds at"
                        + " most " + rowLength + " (truncate examples to the max length when encoding them)");
            }
        }
        List<List<Integer>> rows = place(examples, rowLength);
        int t = 0;
        for (List<Integer> row : rows) {
            t = Math.max(t, fill(examples, row));
        }
        int b = rows.size();
        long[][] ids = new long[b][t]; // [B, T]
        long[][] mask = new long[b][t]; // [B, T]
        long[][] labels = new long[b][t]; // [B, T]
        int[][] exampleOf = new int[b][t]; // [B, T]
        for (int i = 0; i < b; i++) {
            Arrays.fill(ids[i], BatchCollator.PAD_ID);
            Arrays.fill(labels[i], Batch.IGNORE_INDEX);
            int j = 0;
            int last = 0;
            for (int k : rows.get(i)) {
                EncodedExample e = examples.get(k);
                for (int p = 0; p < e.length(); p++, j++) {
                    ids[i][j] = e.inputIds()[p];
                    mask[i][j] = 1;
                    labels[i][j] = p == 0 ? Batch.IGNORE_INDEX : e.labels()[p];
                    exampleOf[i][j] = k;
                }
                last = k;
            }
            Arrays.fill(exampleOf[i], j, t, last);
        }
        return new Batch(ids, mask, labels, null, exampleOf);
    }

    /** First-fit decreasing: the example indices of each row, in the order placed. */
    static List<List<Integer>> place(List<EncodedExample> examples, int rowLength) {
        Integer[] order = new Integer[examples.size()];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer k) -> examples.get(k).length()).reversed()); // stable
        List<List<Integer>> rows = new ArrayList<>();
        List<Integer> free = new ArrayList<>(); // tokens left in each row
        for (int k : order) {
            int len = examples.get(k).length();
            int r = 0;
            while (r < rows.size() && free.get(r) < len) {
                r++;
            }
            if (r == rows.size()) {
                rows.add(new ArrayList<>());
                free.add(rowLength);
            }
            rows.get(r).add(k);
            free.set(r, free.get(r) - len);
        }
        return rows;
    }

    private static int fill(List<EncodedExample> examples, List<Integer> row) {
        int n = 0;
        for (int k : row) {
            n += examples.get(k).length();
        }
        return n;
    }
}
