package dev.mor4j.llama.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The generation loop on a scripted model: what it feeds, when it stops. */
class GeneratorTest {

    private static final int V = 10;
    private static final int EOS = 2;

    /** Predicts {@code script[i]} after the i-th call, and records what it was fed. */
    private static final class Scripted implements LogitsStepper {
        final int[] script;
        final int max;
        final List<Integer> fed = new ArrayList<>();
        int length;
        int calls;

        Scripted(int max, int... script) {
            this.max = max;
            this.script = script;
        }

        private float[] next() {
            float[] l = new float[V];
            l[script[calls++ % script.length]] = 5f;
            return l;
        }

        @Override
        public float[] start(int[] promptIds) {
            fed.clear();
            calls = 0;
            for (int id : promptIds) {
                fed.add(id);
            }
            length = promptIds.length;
            return next();
        }

        @Override
        public float[] append(int tokenId) {
            fed.add(tokenId);
            length++;
            return next();
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public int maxLength() {
            return max;
        }
    }

    @Test
    void stopsAtEosAndKeepsIt() {
        Scripted m = new Scripted(100, 5, 6, EOS, 7);
        GenerationResult r = new Generator(m, null, Set.of(EOS)).generate(new int[] {1, 3}, GenerationConfig.greedy(10), null);
        assertArrayEquals(new int[] {5, 6, EOS}, r.tokenIds());
        assertEquals(StopReason.EOS, r.stopReason());
        assertEquals(List.of(1, 3, 5, 6), m.fed, "EOS itself is never fed back");
    }

    @Test
    void stopsAfterMaxNewTokens() {
        Scripted m = new Scripted(100, 4);
        List<Integer> steps = new ArrayList<>();
        GenerationResult r = new Generator(m, null, Set.of(EOS))
                .generate(new int[] {1}, GenerationConfig.greedy(3), (s, l, t) -> steps.add(s));
        assertArrayEquals(new int[] {4, 4, 4}, r.tokenIds());
        assertEquals(StopReason.MAX_NEW_TOKENS, r.stopReason());
        assertEquals(List.of(0, 1, 2), steps);
        assertEquals(3, m.fed.size(), "the last token is not fed: its logits are not needed");
    }

    @Test
    void stopsWhenThePositionsAreFull() {
        Scripted m = new Scripted(5, 4);
        GenerationResult r = new Generator(m, null, Set.of(EOS)).generate(new int[] {1, 3, 3}, GenerationConfig.greedy(10), null);
        assertEquals(StopReason.MAX_POSITIONS, r.stopReason());
        assertEquals(5, m.fed.size());
        assertEquals(3, r.tokenIds().length);
    }

    @Test
    void refusesAPromptThatLeavesNoRoom() {
        Generator g = new Generator(new Scripted(3, 4), null, Set.of(EOS));
        MorException e = assertThrows(MorException.class, () -> g.generate(new int[] {1, 3, 3}, GenerationConfig.greedy(1), null));
        assertTrue(e.getMessage().contains("max_position_embeddings (3)"), e.getMessage());
        assertThrows(MorException.class, () -> g.generate(new int[0], GenerationConfig.greedy(1), null));
    }
}
