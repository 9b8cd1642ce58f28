package dev.mor4j.tasks;

import java.util.List;

/**
 * One drawn example of a task, before it is given an id and a split.
 *
 * @param prompt      the user turn
 * @param answer      the one right assistant turn
 * @param distractors plausible wrong answers (distinct, none equal to the answer), the most plausible first
 */
record TaskExample(String prompt, String answer, List<String> distractors) {

    TaskExample {
        distractors = List.copyOf(distractors);
        if (distractors.contains(answer) || distractors.stream().distinct().count() != distractors.size()) {
            throw new IllegalArgumentException("distractors of \"" + prompt + "\" must be distinct wrong answers, got "
                    + distractors + " for answer " + answer);
        }
    }
}
