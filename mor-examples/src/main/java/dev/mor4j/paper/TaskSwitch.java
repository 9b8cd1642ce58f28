package dev.mor4j.paper;

import dev.mor4j.llama.adapter.TaskSelection;

/**
 * The task a MoRE adapter computes for, set before each task's test items are evaluated: MoRE is evaluated with
 * every item's own task, as it was trained (each training example's task is its dataset).
 */
final class TaskSwitch implements TaskSelection {

    private int task = -1;

    /** Makes every following sequence use task id {@code id}. */
    void set(int id) {
        if (id < 0) {
            throw new IllegalArgumentException("a task id is ≥ 0, got " + id);
        }
        this.task = id;
    }

    @Override
    public int taskFor(int[] promptIds) {
        if (task < 0) {
            throw new IllegalStateException("no task set before evaluating a MoRE adapter");
        }
        return task;
    }
}
