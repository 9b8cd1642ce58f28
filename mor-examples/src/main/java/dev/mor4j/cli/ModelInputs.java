package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.TaskPicker;
import dev.mor4j.llama.adapter.TaskSelection;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * The {@code --model}, {@code --adapter}, {@code --tokenizer} and {@code --task} options of the inference commands
 * ({@code generate}, {@code eval}), as a picocli mixin, and what they load.
 */
final class ModelInputs {

    @Option(names = "--model", required = true, description = "Hugging Face model directory (config.json, *.safetensors).")
    Path model;

    @Option(names = "--adapter", description = "Adapter directory (adapter_config.json, adapter_model.safetensors).")
    Path adapter;

    @Option(names = "--tokenizer", description = "Directory holding tokenizer.json, or the file (default: the model directory).")
    Path tokenizer;

    @Option(names = "--task", paramLabel = "NAME|auto",
            description = "MoRE adapters (required with one): the task whose chosen ranks every module uses, or auto"
                    + " for the task whose embeddings are most similar to the prompt (compared on the base model's"
                    + " inputs to each module, averaged over modules).")
    String task;

    /** Loads the model of {@code --model}. */
    LlamaModel loadModel() {
        return LlamaModel.load(model);
    }

    /**
     * The tokenizer of {@code --tokenizer}, or else the model directory's {@code tokenizer.json}.
     *
     * @throws MorException naming {@code --tokenizer} when neither is given
     */
    Tokenizer loadTokenizer() {
        if (tokenizer != null) {
            return Tokenizer.load(tokenizer);
        }
        if (!Files.isRegularFile(model.resolve(Tokenizer.FILE_NAME))) {
            throw new MorException(model + " has no " + Tokenizer.FILE_NAME
                    + ": pass --tokenizer DIR (a directory holding tokenizer.json, or the file)");
        }
        return Tokenizer.load(model);
    }

    /** The adapter of {@code --adapter}, checked against the model; null when not given. */
    LlamaAdapters loadAdapters(LlamaModel loaded) {
        return adapter == null ? null : LlamaAdapters.load(loaded.weights(), adapter);
    }

    /**
     * How a MoRE adapter's task is chosen ({@code --task}); null for other adapters.
     *
     * @param onPick told each pick of {@code --task auto}
     * @throws MorException when a MoRE adapter has no {@code --task}, the task is unknown, or {@code --task} is given
     *                      without a MoRE adapter
     */
    TaskSelection taskSelection(LlamaModel loaded, LlamaAdapters adapters, Consumer<TaskPicker.Pick> onPick) {
        return CliTasks.selection(task, loaded, adapters, adapter, onPick);
    }
}
