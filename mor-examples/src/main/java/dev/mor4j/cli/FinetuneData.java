package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.TaskIndex;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training data of {@code mor finetune}: the conversations of {@code --data}, encoded, and for MoRE the tasks.
 * Bad lines are reported once each (or stop the run with {@code --strict}). For MoRE each conversation's task is
 * its {@code dataset}: a conversation without one, or (with {@code --tasks}) of a dataset not listed, stops the run
 * with {@code FILE:LINE: reason}. Without {@code --tasks} the tasks are the distinct datasets of the examples kept,
 * sorted ({@link TaskIndex#fromExamples}).
 *
 * @param examples the examples to train on, in file order
 * @param tasks    MoRE's tasks in task-id order; null for the other methods
 */
record FinetuneData(List<EncodedExample> examples, TaskIndex tasks) {

    /**
     * Reads and encodes {@code settings.data()}, printing what was read to {@code err}.
     *
     * @throws MorException naming the file (and line) when nothing is left to train on or a conversation's dataset
     *                      is not a task
     */
    static FinetuneData read(FinetuneSettings s, Tokenizer tok, PrintStream err) {
        TaskIndex listed = s.isMore() && s.tasks() != null ? TaskIndex.of(s.tasks()) : null;
        List<EncodedExample> examples = TuluExamples.read(Path.of(s.data()), tok, s.maxLen(),
                s.strict() ? TuluExamples.BadLines.STOP : TuluExamples.BadLines.SKIP,
                s.isMore() ? (c, file, line) -> checkTask(c, listed, file, line) : TuluExamples.ConversationCheck.NONE,
                err);
        if (!s.isMore()) {
            return new FinetuneData(examples, null);
        }
        FinetuneData data = new FinetuneData(examples,
                s.tasks() != null ? TaskIndex.of(s.tasks()) : TaskIndex.fromExamples(examples));
        StringBuilder counts = new StringBuilder();
        data.examplesPerTask().forEach((t, n) -> counts.append(counts.length() == 0 ? "" : ", ").append(t)
                .append(' ').append(n));
        err.println("tasks (" + (s.tasks() != null ? "--tasks" : "the data's datasets, sorted") + "; examples each): "
                + counts);
        return data;
    }

    /** A MoRE conversation needs a dataset, and one of {@code listed} when the tasks were given. */
    private static void checkTask(Conversation c, TaskIndex listed, Path file, long line) {
        if (c.dataset().isEmpty()) {
            throw new MorException(file + ":" + line + ": conversation '" + c.id() + "' has no \"dataset\"; MoRE"
                    + " learns one task per dataset, so every conversation needs one");
        }
        if (listed != null && !listed.names().contains(c.dataset())) {
            throw new MorException(file + ":" + line + ": dataset '" + c.dataset() + "' is not one of the tasks "
                    + listed.names() + " (--tasks)");
        }
    }

    /** Examples per task, in task-id order; empty for the other methods. */
    Map<String, Integer> examplesPerTask() {
        Map<String, Integer> out = new LinkedHashMap<>();
        if (tasks != null) {
            tasks.names().forEach(t -> out.put(t, 0));
            examples.forEach(e -> out.merge(e.dataset(), 1, Integer::sum));
        }
        return out;
    }
}
