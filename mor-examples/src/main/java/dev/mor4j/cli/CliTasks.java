package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.MoreTasks;
import dev.mor4j.llama.adapter.TaskPicker;
import dev.mor4j.llama.adapter.TaskSelection;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The {@code --task} option of the commands that run or convert a MoRE adapter: a task name of the adapter, or
 * {@code auto} where a prompt's task can be picked ({@code generate}, {@code eval}). Every misuse is one message
 * naming the adapter directory and listing its tasks.
 */
final class CliTasks {

    /** The {@code --task} value that picks each prompt's task ({@link TaskPicker}). */
    static final String AUTO = "auto";

    private CliTasks() {
    }

    /**
     * How {@code generate} and {@code eval} choose the task: null without a MoRE adapter, a fixed task for
     * {@code --task NAME}, the picker for {@code --task auto}.
     *
     * @param adapterDir the {@code --adapter} directory, for messages (null when none was given)
     * @param onPick     told each pick of {@code --task auto}
     */
    static TaskSelection selection(String task, LlamaModel model, LlamaAdapters adapters, Path adapterDir,
            Consumer<TaskPicker.Pick> onPick) {
        if (!MoreTasks.isMore(adapters)) {
            refuseWithoutMore(task, adapters, adapterDir);
            return null;
        }
        List<String> names = MoreTasks.names(adapters);
        if (task == null) {
            throw new MorException(adapterDir + " is a MoRE adapter: choose its task with --task NAME, one of " + names
                    + ", or --task auto (the task most similar to each prompt)");
        }
        if (task.equals(AUTO)) {
            return new TaskPicker(model.weights(), adapters).selection(onPick);
        }
        return TaskSelection.fixed(id(task, adapters, adapterDir, " (or auto)"));
    }

    /**
     * The one task {@code merge} and {@code export-lora} convert.
     *
     * @throws MorException when the adapter is not MoRE, the task is missing, auto or unknown
     */
    static int named(String task, LlamaAdapters adapters, Path adapterDir) {
        if (!MoreTasks.isMore(adapters)) {
            throw new MorException(adapterDir + " is a " + adapters.config().method() + " adapter, not MoRE: it has"
                    + " no tasks to choose from");
        }
        List<String> names = MoreTasks.names(adapters);
        if (task == null || task.equals(AUTO)) {
            throw new MorException(adapterDir + " is a MoRE adapter: name the task to convert with --task NAME, one"
                    + " of " + names + (task == null ? "" : " (auto picks a task per prompt, which a single"
                    + " checkpoint or LoRA cannot do)"));
        }
        return id(task, adapters, adapterDir, "");
    }

    /** Refuses {@code --task} for an adapter without tasks. */
    static void refuseWithoutMore(String task, LlamaAdapters adapters, Path adapterDir) {
        if (task == null) {
            return;
        }
        throw new MorException(adapters == null ? "--task " + task + ": --task chooses a task of a MoRE adapter, and"
                + " no --adapter was given" : "--task " + task + ": " + adapterDir + " is a "
                + adapters.config().method() + " adapter, not MoRE: it has no tasks");
    }

    private static int id(String task, LlamaAdapters adapters, Path adapterDir, String alternatives) {
        List<String> names = MoreTasks.names(adapters);
        int id = names.indexOf(task);
        if (id < 0) {
            throw new MorException("--task " + task + ": " + adapterDir + " has no task '" + task + "'; its tasks are "
                    + names + alternatives);
        }
        return id;
    }

    /** One line about a pick of {@code --task auto}: the task, its mean similarity and every task's. */
    static String describe(TaskPicker.Pick pick, List<String> names) {
        StringBuilder all = new StringBuilder();
        for (int t = 0; t < names.size(); t++) {
            all.append(t == 0 ? "" : ", ").append(names.get(t))
                    .append(String.format(Locale.ROOT, " %.4f", pick.meanCosines()[t]));
        }
        return String.format(Locale.ROOT, "task auto: picked '%s' (mean cosine similarity %.4f over %d modules; %s)",
                pick.name(), pick.meanCosine(), pick.modules(), all);
    }
}
