package dev.mor4j.llama.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ContinuationEncoderTest {

    private static final Tokenizer SP = Tokenizer.load(TestData.root().resolve("tokenizers/sp-bpe-32k"));
    private static final int BOS = SP.bosId().getAsInt();

    private static int[] withBos(int[] ids) {
        int[] out = new int[ids.length + 1];
        out[0] = BOS;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    @Test
    void theContinuationIsWhatTheWholeAddsToTheContext() {
        ContinuationEncoder.Encoded e = new ContinuationEncoder(SP, true).encode("The opposite of hot is", " cold");
        int[] context = withBos(SP.encode("The opposite of hot is", false));
        int[] whole = withBos(SP.encode("The opposite of hot is cold", false));
        assertArrayEquals(context, e.context());
        assertArrayEquals(Arrays.copyOfRange(whole, context.length, whole.length), e.continuation());
        assertArrayEquals(whole, e.span().ids());
        assertTrue(e.span().from() == context.length);
    }

    @Test
    void trailingSpaceOfTheContextMovesToTheContinuation() {
        ContinuationEncoder enc = new ContinuationEncoder(SP, true);
        ContinuationEncoder.Encoded moved = enc.encode("The opposite of hot is ", "cold");
        ContinuationEncoder.Encoded plain = enc.encode("The opposite of hot is", " cold");
        assertArrayEquals(plain.context(), moved.context());
        assertArrayEquals(plain.continuation(), moved.continuation());
    }

    @Test
    void withoutBosAnEmptyContextBecomesBos() {
        ContinuationEncoder.Encoded e = new ContinuationEncoder(SP, false).encode("", "Hello world");
        assertArrayEquals(new int[] {BOS}, e.context());
        assertArrayEquals(SP.encode("Hello world", false), e.continuation());
        ContinuationEncoder.Encoded noBos = new ContinuationEncoder(SP, false).encode("Hello", " world");
        assertArrayEquals(SP.encode("Hello", false), noBos.context());
    }

    @Test
    void aContinuationThatAddsNoTokenIsRefused() {
        MorException e = assertThrows(MorException.class, () -> new ContinuationEncoder(SP, true).encode("Hello", ""));
        assertTrue(e.getMessage().contains("adds no token"), e.getMessage());
    }
}
