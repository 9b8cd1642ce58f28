package dev.mor4j.llama.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The split behaviors on the example of the HF documentation: {@code "the-final--countdown"} split on "-". */
class SplitBehaviorTest {

    private static final String TEXT = "the-final--countdown";

    @Test
    void behaviors() {
        assertEquals(List.of("the", "final", "countdown"), split(SplitBehavior.REMOVED, false));
        assertEquals(List.of("the", "-", "final", "-", "-", "countdown"), split(SplitBehavior.ISOLATED, false));
        assertEquals(List.of("the-", "final-", "-", "countdown"), split(SplitBehavior.MERGED_WITH_PREVIOUS, false));
        assertEquals(List.of("the", "-final", "-", "-countdown"), split(SplitBehavior.MERGED_WITH_NEXT, false));
        assertEquals(List.of("the", "-", "final", "--", "countdown"), split(SplitBehavior.CONTIGUOUS, false));
    }

    @Test
    void invertedKeepsTheMatches() {
        assertEquals(List.of("-", "-", "-"), split(SplitBehavior.REMOVED, true));
    }

    private static List<String> split(SplitBehavior behavior, boolean invert) {
        List<PreTokenizer.Piece> out = new ArrayList<>();
        behavior.split(new PreTokenizer.Piece(TEXT, true), TextPattern.literal("-").matches(TEXT), invert, out);
        return out.stream().map(PreTokenizer.Piece::text).toList();
    }
}
