package dev.mor4j.tasks;

import java.util.List;

/**
 * One item of a benchmark split: a prompt with its answer, and the multiple-choice form of it.
 *
 * @param task    the task name ({@link BenchmarkTask#taskName()})
 * @param id      unique in the benchmark, e.g. {@code addition-test-0007}
 * @param prompt  the user turn
 * @param answer  the right assistant turn
 * @param choices the answer and the distractors in shuffled order
 * @param label   the index of the answer in {@code choices}
 */
public record BenchmarkItem(String task, String id, String prompt, String answer, List<String> choices, int label) {

    public BenchmarkItem {
        choices = List.copyOf(choices);
        if (label < 0 || label >= choices.size() || !choices.get(label).equals(answer)) {
            throw new IllegalArgumentException(id + ": choice " + label + " of " + choices + " is not the answer "
                    + answer);
        }
    }
}
