package dev.mor4j.llama.tokenizer;

import java.util.Arrays;
import java.util.Map;

/**
 * The vocabulary as an open-addressing hash table that is looked up by the characters of a buffer, so that a
 * pre-token written into a reused {@code char[]} is found without building a {@link String} for it. Immutable.
 */
final class VocabularyIndex {

    private final char[][] keys;
    private final int[] hashes;
    private final int[] ids;
    private final int mask;
    private final int shift;

    VocabularyIndex(Map<String, Integer> vocab) {
        int capacity = Integer.highestOneBit(Math.max(4, vocab.size() * 2 - 1)) << 1;
        keys = new char[capacity][];
        hashes = new int[capacity];
        ids = new int[capacity];
        mask = capacity - 1;
        shift = Integer.numberOfLeadingZeros(capacity) + 1;
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String key = e.getKey();
            int slot = slot(key.hashCode());
            while (keys[slot] != null) {
                slot = (slot + 1) & mask;
            }
            keys[slot] = key.toCharArray();
            hashes[slot] = key.hashCode();
            ids[slot] = e.getValue();
        }
    }

    /** The id of the token spelled by {@code chars[0, length)}, or -1 when there is none. */
    int id(char[] chars, int length) {
        int h = 0;
        for (int i = 0; i < length; i++) {
            h = 31 * h + chars[i];
        }
        for (int slot = slot(h); ; slot = (slot + 1) & mask) {
            char[] key = keys[slot];
            if (key == null) {
                return -1;
            }
            if (hashes[slot] == h && Arrays.equals(key, 0, key.length, chars, 0, length)) {
                return ids[slot];
            }
        }
    }

    /** Fibonacci hashing of {@link String#hashCode}: the top bits of its product with 2^32 / φ. */
    private int slot(int hash) {
        return (hash * 0x9E3779B9) >>> shift;
    }
}
