package dev.mor4j.llama.adapter;

/**
 * Which task a MoRE adapter computes a sequence for: a task id (an index into the adapter's {@code tasks}) chosen
 * from the sequence's prompt. {@link #fixed} always gives one task (a user's {@code --task NAME});
 * {@link TaskPicker#selection} picks the task whose embedding is most similar to the prompt
 * ({@code --task auto}).
 */
@FunctionalInterface
public interface TaskSelection {

    /**
     * @param promptIds the prompt's token ids, BOS included
     * @return the task id the whole sequence uses (every later step keeps it)
     */
    int taskFor(int[] promptIds);

    /** Always {@code task}. */
    static TaskSelection fixed(int task) {
        if (task < 0) {
            throw new IllegalArgumentException("a task id is ≥ 0, got " + task);
        }
        return promptIds -> task;
    }
}
