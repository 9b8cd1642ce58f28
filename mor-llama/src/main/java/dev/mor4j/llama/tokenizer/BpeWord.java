package dev.mor4j.llama.tokenizer;

import java.util.Arrays;

/**
 * Applies the BPE merges to one word, exactly in the order of the HF {@code tokenizers} library: a priority queue
 * holds every adjacent pair that has a merge, the pair with the lowest rank (then the leftmost) is merged first,
 * and the pairs it forms with its neighbours are queued. A queued pair whose symbols have changed since is skipped
 * unless the pair now there produces the same token (the reference implementation checks the produced id, not
 * the rank, and so does this). Runs in O(n log n) for a word of n symbols.
 */
final class BpeWord {

    private BpeWord() {
    }

    /**
     * Merges the symbols of a word.
     *
     * @param symbols initial token ids, one per character (or byte-fallback byte); not modified
     * @return the token ids after all merges
     */
    static int[] merge(int[] symbols, MergeTable merges) {
        int n = symbols.length;
        if (n < 2) {
            return symbols.clone();
        }
        int[] ids = symbols.clone();
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] removed = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongHeap queue = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            int rank = merges.rank(ids[i], ids[i + 1]);
            if (rank >= 0) {
                queue.push(entry(rank, i));
            }
        }
        int remaining = n;
        while (!queue.isEmpty()) {
            long top = queue.pop();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            if (removed[pos] || next[pos] == -1) {
                continue;
            }
            int right = next[pos];
            int currentRank = merges.rank(ids[pos], ids[right]);
            int newId = merges.newId(rank);
            if (currentRank < 0 || merges.newId(currentRank) != newId) {
                continue; // expired entry
            }
            ids[pos] = newId;
            removed[right] = true;
            remaining--;
            next[pos] = next[right];
            if (next[right] != -1) {
                prev[next[right]] = pos;
            }
            if (prev[pos] >= 0) {
                int r = merges.rank(ids[prev[pos]], ids[pos]);
                if (r >= 0) {
                    queue.push(entry(r, prev[pos]));
                }
            }
            if (next[pos] != -1) {
                int r = merges.rank(ids[pos], ids[next[pos]]);
                if (r >= 0) {
                    queue.push(entry(r, pos));
                }
            }
        }
        int[] out = new int[remaining];
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (!removed[i]) {
                out[k++] = ids[i];
            }
        }
        return out;
    }

    /** Orders by rank, then by position: the pair to merge next is the smallest entry. */
    private static long entry(int rank, int pos) {
        return ((long) rank << 32) | pos;
    }

    /** A binary min-heap of {@code long}s. */
    private static final class LongHeap {
        private long[] heap;
        private int size;

        LongHeap(int capacity) {
            heap = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long value) {
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= value) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = value;
        }

        long pop() {
            long result = heap[0];
            long last = heap[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < size && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (last <= heap[child]) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return result;
        }
    }
}
