package dev.mor4j.llama.eval;

import java.util.List;

/**
 * One zero-shot multiple-choice question: the model scores {@code context + choice} for every choice, and is
 * right when the correct choice scores highest.
 *
 * @param task    the task it belongs to (results are reported per task)
 * @param context the text before the answer, e.g. {@code "Question: …\nAnswer:"}
 * @param choices the candidate continuations, appended to the context as they are (so they usually begin with
 *                a space, as the continuations of lm-evaluation-harness do)
 * @param label   the index of the correct choice
 * @param source  where it was read, {@code file:line}, for messages
 */
public record MultipleChoiceItem(String task, String context, List<String> choices, int label, String source) {

    public MultipleChoiceItem {
        choices = List.copyOf(choices);
        if (choices.size() < 2) {
            throw new IllegalArgumentException(source + ": expected at least 2 choices, got " + choices.size());
        }
        if (label < 0 || label >= choices.size()) {
            throw new IllegalArgumentException(source + ": label " + label + " is not a choice index [0, "
                    + choices.size() + ")");
        }
    }
}
