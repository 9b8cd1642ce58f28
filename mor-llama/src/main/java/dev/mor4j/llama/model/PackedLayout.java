package dev.mor4j.llama.model;

import dev.mor4j.core.MorException;

/**
 * The checks a packed {@link Batch}'s {@code exampleOf} {@code [B][T]} must pass: examples numbered
 * {@code 0 … E−1}, each filling one contiguous run of positions of one row and holding at least one real token.
 * Only then are its rotary positions (the offset from the run's start) and its attention (the run, causally)
 * those of the example alone.
 */
final class PackedLayout {

    private PackedLayout() {
    }

    /**
     * @param exampleOf     {@code [B][T]} the example of each position
     * @param attentionMask {@code [B][T]}, already checked to be {@code [B][T]}
     * @return the number of examples E
     * @throws MorException naming the first position that breaks a rule
     */
    static int check(int[][] exampleOf, long[][] attentionMask) {
        int b = attentionMask.length;
        int t = attentionMask[0].length;
        if (exampleOf.length != b) {
            throw new MorException("example_of: expected " + b + " rows, got " + exampleOf.length);
        }
        int examples = 0;
        for (int i = 0; i < b; i++) {
            if (exampleOf[i].length != t) {
                throw new MorException("example_of[" + i + "]: expected length " + t + ", got " + exampleOf[i].length);
            }
            for (int j = 0; j < t; j++) {
                int e = exampleOf[i][j];
                if (e < 0) {
                    throw new MorException("example_of[" + i + "][" + j + "] = " + e + "; expected an example index ≥ 0");
                }
                examples = Math.max(examples, e + 1);
            }
        }
        int[] rowOf = new int[examples]; // [E]: the row holding each example, −1 while unseen
        boolean[] real = new boolean[examples]; // [E]: whether the example has a real token
        java.util.Arrays.fill(rowOf, -1);
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                int e = exampleOf[i][j];
                boolean continues = j > 0 && exampleOf[i][j - 1] == e;
                if (!continues && rowOf[e] != -1) {
                    throw new MorException("example_of[" + i + "][" + j + "] = " + e + ": example " + e
                            + " already filled positions " + (rowOf[e] == i ? "earlier in this row" : "of row " + rowOf[e])
                            + "; a packed example must be one contiguous run of one row");
                }
                rowOf[e] = i;
                real[e] |= attentionMask[i][j] != 0;
            }
        }
        for (int e = 0; e < examples; e++) {
            if (rowOf[e] == -1) {
                throw new MorException("example_of: example " + e + " has no position; examples are numbered 0 to "
                        + (examples - 1) + " without gaps");
            }
            if (!real[e]) {
                throw new MorException("example_of: example " + e + " (row " + rowOf[e] + ") has only padding;"
                        + " every packed example needs at least one real token");
            }
        }
        return examples;
    }
}
