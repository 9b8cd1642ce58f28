package dev.mor4j.llama.tokenizer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Merge order of {@link BpeWord} on a toy vocabulary: a=0 b=1 c=2 ab=3 bc=4 abc=5 aa=6. */
class BpeWordTest {

    private static final int A = 0, B = 1, C = 2, AB = 3, BC = 4, ABC = 5, AA = 6;

    @Test
    void lowestRankMergesFirst() {
        // rank 0: b c, rank 1: a b, rank 2: a bc
        MergeTable merges = new MergeTable(new int[] {B, A, A}, new int[] {C, B, BC}, new int[] {BC, AB, ABC});
        assertArrayEquals(new int[] {ABC}, BpeWord.merge(new int[] {A, B, C}, merges));
    }

    @Test
    void leftmostWinsAmongEqualRanks() {
        MergeTable merges = new MergeTable(new int[] {A}, new int[] {A}, new int[] {AA});
        assertArrayEquals(new int[] {AA, A}, BpeWord.merge(new int[] {A, A, A}, merges));
        assertArrayEquals(new int[] {AA, AA}, BpeWord.merge(new int[] {A, A, A, A}, merges));
    }

    @Test
    void noMergeLeavesSymbols() {
        MergeTable merges = new MergeTable(new int[] {A}, new int[] {B}, new int[] {AB});
        assertArrayEquals(new int[] {B, A}, BpeWord.merge(new int[] {B, A}, merges));
        assertArrayEquals(new int[] {C}, BpeWord.merge(new int[] {C}, merges));
        assertArrayEquals(new int[] {}, BpeWord.merge(new int[] {}, merges));
    }
}
