package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.BadLine;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.EncodeStats;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.ReadSummary;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.data.TuluReader;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.TaskIndex;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

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
        Path file = Path.of(s.data());
        TuluEncoder encoder = new TuluEncoder(tok, s.maxLen());
        EncodeStats stats = new EncodeStats();
        AtomicLong bad = new AtomicLong();
        List<EncodedExample> examples;
        ReadSummary summary;
        try (TuluReader reader = s.strict() ? TuluReader.openStrict(file) : TuluReader.open(file, (BadLine b) -> {
            bad.incrementAndGet();
            err.println("skipping " + b);
        })) {
            TaskIndex listed = s.isMore() && s.tasks() != null ? TaskIndex.of(s.tasks()) : null;
            examples = encoder.encodeAll(reader.stream().map(c -> {
                if (s.isMore()) {
                    checkTask(c, listed, file, reader.line()); // the line of c: the stream reads no further yet
                }
                return c;
            }), stats).toList();
            summary = reader.summary();
        }
        err.printf(Locale.ROOT, "data: %d conversations from %d lines, %d bad lines skipped; %d examples kept"
                        + " (%d truncated to %d tokens, %d dropped with no answer token left), %,d answer tokens%n",
                summary.conversations(), summary.lines(), bad.get(), stats.kept(), stats.truncated(), s.maxLen(),
                stats.droppedWithoutTrainableTokens(), stats.trainableTokens());
        if (examples.isEmpty()) {
            throw new MorException(file + ": nothing to train on: " + summary.lines() + " lines, " + bad.get()
                    + " bad, " + stats.droppedWithoutTrainableTokens() + " with no answer token within --max-len "
                    + s.maxLen());
        }
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
