package dev.mor4j.tasks;

import dev.mor4j.core.MorException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * The tasks of the benchmark, each needing a different skill. {@link #taskName()} is what the files carry (the
 * Tulu {@code dataset}, the {@code task} of evaluation rows).
 */
public enum BenchmarkTask {
    /** Multi-digit addition ({@link AdditionTask}): digit-wise arithmetic with carries. */
    ADDITION(new AdditionTask()),
    /** String reversal ({@link ReversalTask}): position-wise copying in reverse. */
    REVERSAL(new ReversalTask()),
    /** Sorting a short list of numbers ({@link SortingTask}): comparison. */
    SORTING(new SortingTask()),
    /** Counting a letter's occurrences ({@link CountingTask}): counting. */
    COUNTING(new CountingTask()),
    /** Key–value recall from the context ({@link RecallTask}): retrieval. */
    RECALL(new RecallTask()),
    /** Date format conversion DD/MM/YYYY → YYYY-MM-DD ({@link DateTask}): reordering fields. */
    DATES(new DateTask());

    private final TaskGenerator generator;

    BenchmarkTask(TaskGenerator generator) {
        this.generator = generator;
    }

    /** The lowercase name, e.g. {@code addition}. */
    public String taskName() {
        return name().toLowerCase(Locale.ROOT);
    }

    TaskExample draw(Random rnd) {
        return generator.draw(rnd);
    }

    /**
     * The task of a name.
     *
     * @throws MorException naming the known tasks when there is none
     */
    public static BenchmarkTask of(String name) {
        for (BenchmarkTask t : values()) {
            if (t.taskName().equals(name)) {
                return t;
            }
        }
        throw new MorException("unknown task \"" + name + "\" (known: "
                + Arrays.stream(values()).map(BenchmarkTask::taskName).collect(Collectors.joining(", ")) + ")");
    }
}
