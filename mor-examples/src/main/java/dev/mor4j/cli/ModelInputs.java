package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the inference commands load from {@code --model}, {@code --adapter} and {@code --tokenizer}. */
final class ModelInputs {

    private ModelInputs() {
    }

    /**
     * The tokenizer of {@code --tokenizer}, or else the model directory's {@code tokenizer.json}.
     *
     * @throws MorException naming {@code --tokenizer} when neither is given
     */
    static Tokenizer tokenizer(Path tokenizerOption, Path modelDir) {
        if (tokenizerOption != null) {
            return Tokenizer.load(tokenizerOption);
        }
        if (!Files.isRegularFile(modelDir.resolve(Tokenizer.FILE_NAME))) {
            throw new MorException(modelDir + " has no " + Tokenizer.FILE_NAME
                    + ": pass --tokenizer DIR (a directory holding tokenizer.json, or the file)");
        }
        return Tokenizer.load(modelDir);
    }

    /** The adapter of {@code --adapter}, checked against the model; null when not given. */
    static LlamaAdapters adapters(LlamaModel model, Path adapterOption) {
        return adapterOption == null ? null : LlamaAdapters.load(model.weights(), adapterOption);
    }
}
