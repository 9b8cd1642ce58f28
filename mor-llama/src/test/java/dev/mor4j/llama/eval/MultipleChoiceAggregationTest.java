package dev.mor4j.llama.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Accuracy arithmetic on fixed scores, independent of any model. */
class MultipleChoiceAggregationTest {

    private static MultipleChoiceItem item(String task, int label, String... choices) {
        return new MultipleChoiceItem(task, "ctx", List.of(choices), label, "test:" + task);
    }

    @Test
    void accAndAccNormPerTaskAndOverall() {
        List<MultipleChoiceItem> items = List.of(
                // longest sum wins for acc; per character, the 10-character choice wins (-4/10 > -3/2)
                item("a", 1, " x", " abcdefghi"),
                item("a", 0, " x", " abcdefghi"),
                item("b", 2, "p", "q", "r"),
                item("b", 0, "p", "q", "r"),
                item("b", 1, "p", "q", "r"));
        List<double[]> scores = List.of(
                new double[] {-3, -4}, // acc: 0 (wrong), norm: -1.5 vs -0.4 → 1 (right)
                new double[] {-3, -4}, // acc: 0 (right), norm: 1 (wrong)
                new double[] {-5, -2, -1}, // both pick 2: right
                new double[] {-1, -1, -2}, // tie between 0 and 1 goes to 0: right
                new double[] {-1, -2, -3}); // both pick 0: wrong
        MultipleChoiceEval.Report r = MultipleChoiceEval.aggregate(items, scores);
        assertEquals(List.of(new TaskResult("a", 2, 0.5, 0.5), new TaskResult("b", 3, 2 / 3.0, 2 / 3.0)), r.tasks());
        assertEquals(new TaskResult(MultipleChoiceEval.ALL, 5, 3 / 5.0, 3 / 5.0), r.overall());
    }

    @Test
    void normalisationCountsCharactersNotBytesOrUtf16Units() {
        // "é" is 2 bytes in UTF-8, "𝄞" is 2 UTF-16 units: each is one character
        List<MultipleChoiceItem> items = List.of(item("u", 0, "𝄞𝄞", "ééé"));
        // per character: -2.1/2 = -1.05 vs -3/3 = -1.0 → 1; per UTF-16 unit it would be -0.525 vs -1 → 0
        MultipleChoiceEval.Report r = MultipleChoiceEval.aggregate(items, List.<double[]>of(new double[] {-2.1, -3}));
        assertEquals(1.0, r.overall().acc());
        assertEquals(0.0, r.overall().accNorm());
    }

    @Test
    void mismatchedScoresAreRefused() {
        List<MultipleChoiceItem> items = List.of(item("a", 0, "x", "y"));
        assertThrows(IllegalArgumentException.class,
                () -> MultipleChoiceEval.aggregate(items, List.<double[]>of(new double[] {1, 2, 3})));
        assertThrows(IllegalArgumentException.class, () -> item("a", 2, "x", "y"));
    }
}
