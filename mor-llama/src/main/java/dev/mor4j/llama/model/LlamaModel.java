package dev.mor4j.llama.model;

import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.ShardedCheckpoint;
import dev.mor4j.llama.config.LlamaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;

/** A Hugging Face LLaMA checkpoint directory loaded for computation: its config and frozen weights. */
public final class LlamaModel {

    private final Path directory;
    private final LlamaConfig config;
    private final LlamaWeights weights;

    private LlamaModel(Path directory, LlamaConfig config, LlamaWeights weights) {
        this.directory = directory;
        this.config = config;
        this.weights = weights;
    }

    /**
     * Loads {@code config.json} and the safetensors weights ({@code model.safetensors} or a sharded
     * checkpoint with {@code model.safetensors.index.json}); BF16 and F16 projections and embeddings stay
     * 16-bit in memory ({@link LlamaWeights}), read from the files without a float copy.
     */
    public static LlamaModel load(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new MorException(directory + ": not a directory (expected a Hugging Face model directory)");
        }
        LlamaConfig config = LlamaConfig.load(directory);
        try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(directory)) {
            LlamaWeights weights = LlamaWeights.load(config, ckpt.description(), new HashSet<>(ckpt.keys()),
                    k -> ckpt.info(k).shape(), ckpt::getStored);
            return new LlamaModel(directory, config, weights);
        }
    }

    public Path directory() {
        return directory;
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaWeights weights() {
        return weights;
    }
}
