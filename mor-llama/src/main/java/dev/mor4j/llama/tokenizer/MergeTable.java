package dev.mor4j.llama.tokenizer;

/**
 * The BPE merge rules as a primitive hash table: the pair of token ids {@code (left, right)} maps to the rank of
 * the merge (its index in the file, lower merges first) and the id of the merged token. Open addressing over
 * {@code long} keys keeps the 280k merges of a LLaMA-3 vocabulary in a few megabytes with no boxing.
 */
final class MergeTable {

    private static final long EMPTY = -1L;

    private final long[] keys;
    private final int[] ranks;
    private final int[] newIdByRank;
    private final int mask;

    /**
     * @param lefts  left token id of merge {@code r}
     * @param rights right token id of merge {@code r}
     * @param newIds id of the token merge {@code r} produces
     */
    MergeTable(int[] lefts, int[] rights, int[] newIds) {
        int n = lefts.length;
        int capacity = Integer.highestOneBit(Math.max(4, n * 2 - 1)) << 1;
        keys = new long[capacity];
        ranks = new int[capacity];
        java.util.Arrays.fill(keys, EMPTY);
        mask = capacity - 1;
        newIdByRank = newIds.clone();
        for (int rank = 0; rank < n; rank++) {
            // a pair listed twice keeps its last rank, as the reference implementation's hash map does
            put(key(lefts[rank], rights[rank]), rank);
        }
    }

    /** The rank of the merge of {@code left} and {@code right}, or -1 when they do not merge. */
    int rank(int left, int right) {
        long key = key(left, right);
        for (int slot = slot(key); ; slot = (slot + 1) & mask) {
            long k = keys[slot];
            if (k == key) {
                return ranks[slot];
            }
            if (k == EMPTY) {
                return -1;
            }
        }
    }

    /** The id of the token that merge {@code rank} produces. */
    int newId(int rank) {
        return newIdByRank[rank];
    }

    private void put(long key, int rank) {
        for (int slot = slot(key); ; slot = (slot + 1) & mask) {
            if (keys[slot] == EMPTY || keys[slot] == key) {
                keys[slot] = key;
                ranks[slot] = rank;
                return;
            }
        }
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32) & mask;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }
}
