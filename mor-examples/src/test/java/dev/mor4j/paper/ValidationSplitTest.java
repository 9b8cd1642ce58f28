package dev.mor4j.paper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodedExample;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ValidationSplitTest {

    private static EncodedExample example(String task, int i) {
        return new EncodedExample(task + "-" + i, task, new int[] {1, 5, 6}, new int[] {-100, 5, 6});
    }

    @Test
    void holdsOutTheLastTenthOfEachTaskInFileOrder() {
        List<EncodedExample> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            all.add(example("a", i)); // interleaved: a-0, b-0, a-1, b-1, ...
            all.add(example("b", i));
        }
        all.add(example("c", 0));
        all.add(example("c", 1));
        ValidationSplit split = ValidationSplit.of(all, 0.1);
        assertEquals(List.of("a-18", "b-18", "a-19", "b-19", "c-1"),
                split.validation().stream().map(EncodedExample::id).toList());
        assertEquals(all.size() - 5, split.train().size());
        assertTrue(split.train().stream().noneMatch(split.validation()::contains));
        assertEquals(split, ValidationSplit.of(all, 0.1), "deterministic");
    }

    @Test
    void aTaskWithOneExampleCannotBeSplit() {
        MorException e = assertThrows(MorException.class,
                () -> ValidationSplit.of(List.of(example("a", 0), example("b", 0), example("b", 1)), 0.1));
        assertTrue(e.getMessage().startsWith("task 'a' has 1 training example(s)"), e.getMessage());
    }
}
