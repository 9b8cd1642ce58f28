package dev.mor4j.llama.train;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.llama.data.EncodedExample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The tasks of a MoRE adapter and the task id of a training example: the index of its {@code dataset} (Tulu-v2's
 * source dataset field) in the adapter's ordered task list.
 */
public final class TaskIndex {

    private final List<String> names;
    private final Map<String, Integer> ids = new HashMap<>();

    private TaskIndex(List<String> names) {
        if (names.isEmpty()) {
            throw new MorException("a MoRE adapter needs at least one task");
        }
        this.names = List.copyOf(names);
        for (int i = 0; i < names.size(); i++) {
            if (ids.put(names.get(i), i) != null) {
                throw new MorException("task '" + names.get(i) + "' is listed twice in " + names);
            }
        }
    }

    /** The given task names, in task-id order. */
    public static TaskIndex of(List<String> names) {
        return new TaskIndex(names);
    }

    /** The distinct {@code dataset} values of the examples, sorted: the tasks a run on them learns. */
    public static TaskIndex fromExamples(Collection<EncodedExample> examples) {
        TreeSet<String> sorted = new TreeSet<>();
        for (EncodedExample e : examples) {
            sorted.add(e.dataset());
        }
        return new TaskIndex(List.copyOf(sorted));
    }

    /** The task names; a task id indexes this list. */
    public List<String> names() {
        return names;
    }

    /**
     * The id of a task name.
     *
     * @throws MorException naming the task and the known ones
     */
    public int idOf(String task) {
        Integer id = ids.get(task);
        if (id == null) {
            throw new MorException("unknown task '" + task + "'; the adapter's tasks are " + names);
        }
        return id;
    }

    /**
     * Each example's task id, in order.
     *
     * @throws MorException naming the first example whose dataset is not one of the tasks
     */
    public long[] idsOf(List<EncodedExample> examples) {
        long[] out = new long[examples.size()]; // [E]
        for (int i = 0; i < out.length; i++) {
            out[i] = idOf(examples.get(i));
        }
        return out;
    }

    /**
     * The task id of one example.
     *
     * @throws MorException naming the example and its dataset when that is not one of the tasks
     */
    public int idOf(EncodedExample example) {
        Integer id = ids.get(example.dataset());
        if (id == null) {
            throw new MorException("example " + example.id() + ": dataset '" + example.dataset()
                    + "' is not one of the adapter's tasks " + names);
        }
        return id;
    }

    /**
     * Checks that a checkpoint (which is also an adapter) was trained with these tasks, in this order: a task id
     * means the same task in its weights and in this run.
     *
     * @throws MorException naming the checkpoint's {@code adapter_config.json} and both task lists otherwise
     */
    public void requireSavedIn(Path checkpoint) {
        Path file = checkpoint.resolve(AdapterFiles.CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new MorException(file + ": not found; a checkpoint of a MoRE run holds its adapter config, whose"
                    + " 'tasks' say which task each task id is");
        }
        List<String> saved = AdapterFiles.readConfig(file).tasks();
        if (!names.equals(saved)) {
            throw new MorException(file + ": the checkpoint was trained with the tasks " + saved + " but this run has "
                    + names + "; a MoRE run resumes with the tasks it started with, in the same order");
        }
    }
}
