package dev.mor4j.llama.model;

import dev.mor4j.core.safetensors.DType;
import dev.mor4j.llama.config.ConfigDType;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The files of a Hugging Face model directory other than its weights: {@code config.json}, the tokenizer's files,
 * {@code generation_config.json} and the like, which a checkpoint derived from the model (merged, fully fine-tuned)
 * carries over.
 */
public final class ModelFiles {

    private ModelFiles() {
    }

    /**
     * Copies {@code modelDir}'s regular files except weights (safetensors, PyTorch/TF/Flax/GGUF weights and their
     * indexes) into {@code to}; {@code config.json} with its dtype set to {@code stored} ({@link ConfigDType}).
     */
    public static void copyOtherFiles(Path modelDir, Path to, DType stored) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(modelDir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (!Files.isRegularFile(f) || isWeightFile(name)) {
                    continue;
                }
                if (name.equals("config.json")) {
                    String config = ConfigDType.withDType(Files.readString(f), stored, f.toString());
                    Files.writeString(to.resolve(name), config);
                } else {
                    Files.copy(f, to.resolve(name));
                }
            }
        }
    }

    /** Whether a file name is one of a weights file or weights index. */
    public static boolean isWeightFile(String name) {
        return Stream.of(".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf", ".index.json")
                .anyMatch(name::endsWith);
    }
}
