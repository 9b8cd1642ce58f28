package dev.mor4j.llama.adapter;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.adapter.AdapterMethod;
import dev.mor4j.core.adapter.MixtureOfRankExperts;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tasks of a MoRE adapter ({@code peft_type: MORE}): its ordered {@code tasks} list, whose index is a task id,
 * and its layers. At inference a MoRE adapter needs one task per example: each module then uses the rank
 * {@code r_k*} its selector chose for that task ({@link MixtureOfRankExperts}).
 */
public final class MoreTasks {

    private MoreTasks() {
    }

    /** True for a MoRE adapter; false for null (no adapter) and every other method. */
    public static boolean isMore(LlamaAdapters adapters) {
        return adapters != null && adapters.config().method() == AdapterMethod.MORE;
    }

    /**
     * The task names in task-id order.
     *
     * @throws MorException when the adapter is not MoRE
     */
    public static List<String> names(LlamaAdapters adapters) {
        requireMore(adapters);
        return adapters.config().taskNames();
    }

    /**
     * The id of a task name (its index in {@code tasks}).
     *
     * @throws MorException naming the task and listing the adapter's tasks when it is not one of them
     */
    public static int id(LlamaAdapters adapters, String name) {
        List<String> names = names(adapters);
        int id = names.indexOf(name);
        if (id < 0) {
            throw new MorException("task '" + name + "' is not one of the adapter's tasks " + names);
        }
        return id;
    }

    /**
     * Checks a task id against the adapter's tasks.
     *
     * @throws MorException when the id is outside {@code [0, tasks)}
     */
    public static int requireId(LlamaAdapters adapters, int task) {
        List<String> names = names(adapters);
        if (task < 0 || task >= names.size()) {
            throw new MorException("task id " + task + " is outside [0, " + names.size() + ") of the adapter's tasks "
                    + names);
        }
        return task;
    }

    /** The MoRE layers by the module name they adapt, in model order. */
    public static Map<String, MixtureOfRankExperts> layers(LlamaAdapters adapters) {
        requireMore(adapters);
        Map<String, MixtureOfRankExperts> out = new LinkedHashMap<>();
        for (Map.Entry<String, AdapterLayer> e : adapters.layers().entrySet()) {
            out.put(e.getKey(), (MixtureOfRankExperts) e.getValue());
        }
        return out;
    }

    /**
     * The rank each module uses for a task, by module name: {@code r_k*} with {@code k* = argmax softmax(W_g·E[t] + b_g)}.
     */
    public static Map<String, Integer> chosenRanks(LlamaAdapters adapters, int task) {
        requireId(adapters, task);
        Map<String, Integer> ranks = new LinkedHashMap<>();
        layers(adapters).forEach((module, layer) -> ranks.put(module, layer.chosenRank(adapters.weights(), task)));
        return ranks;
    }

    private static void requireMore(LlamaAdapters adapters) {
        if (!isMore(adapters)) {
            throw new MorException("expected a MoRE adapter (peft_type MORE), got "
                    + (adapters == null ? "none" : adapters.config().method()));
        }
    }
}
