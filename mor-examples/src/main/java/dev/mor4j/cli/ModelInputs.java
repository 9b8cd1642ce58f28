package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --model}, {@code --adapter} and {@code --tokenizer} options of the inference commands
 * ({@code generate}, {@code eval}), as a picocli mixin, and what they load.
 */
final class ModelInputs {

    @Option(names = "--model", required = true, description = "Hugging Face model directory (config.json, *.safetensors).")
    Path model;

    @Option(names = "--adapter", description = "Adapter directory (adapter_config.json, adapter_model.safetensors).")
    Path adapter;

    @Option(names = "--tokenizer", description = "Directory holding tokenizer.json, or the file (default: the model directory).")
    Path tokenizer;

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
}
