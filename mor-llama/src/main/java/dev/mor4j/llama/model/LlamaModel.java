package dev.mor4j.llama.model;

import dev.mor4j.core.MemoryLimit;
import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.ShardedCheckpoint;
import dev.mor4j.core.safetensors.TensorInfo;
import dev.mor4j.llama.config.LlamaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;

/**
 * A Hugging Face LLaMA checkpoint directory loaded for computation: its config and frozen weights; or a model
 * initialised at random from a config ({@link #random}), which has no directory.
 */
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
            requireRoom(ckpt);
            LlamaWeights weights = LlamaWeights.load(config, ckpt.description(), new HashSet<>(ckpt.keys()),
                    k -> ckpt.info(k).shape(), ckpt::getStored);
            return new LlamaModel(directory, config, weights);
        }
    }

    /**
     * A model of {@code config} with random weights, as transformers initialises a new LlamaForCausalLM
     * ({@link LlamaWeights#random}: matrices {@code N(0, 0.02²)}, norms 1): the start of pre-training from scratch
     * with full fine-tuning. It has no {@link #directory()}.
     */
    public static LlamaModel random(LlamaConfig config, long seed) {
        return random(config, seed, LlamaWeights.DEFAULT_INITIALIZER_RANGE);
    }

    /** As {@link #random(LlamaConfig, long)}, drawing the matrices from {@code N(0, initializerRange²)}. */
    public static LlamaModel random(LlamaConfig config, long seed, double initializerRange) {
        return new LlamaModel(null, config, LlamaWeights.random(config, seed, initializerRange));
    }

    /**
     * Refuses, before anything is read, a checkpoint whose weights alone exceed the process's memory limit (16-bit
     * tensors are held in 2 bytes, others in 4).
     */
    private static void requireRoom(ShardedCheckpoint ckpt) {
        long bytes = 0;
        for (String key : ckpt.keys()) {
            TensorInfo t = ckpt.info(key);
            bytes += t.numel() * (t.dtype() == DType.BF16 || t.dtype() == DType.F16 ? 2 : 4);
        }
        MemoryLimit limit = MemoryLimit.ofProcess();
        if (bytes > limit.bytes()) {
            throw new MorException(String.format(Locale.ROOT, "%s: the weights take %.2f GB in memory but the limit is"
                    + " %.2f GB (%s); run on a machine with more memory or raise the limit (MOR_JAVA_OPTS=\"-Dorg."
                    + "bytedeco.javacpp.maxbytes=... -Dorg.bytedeco.javacpp.maxphysicalbytes=...\")",
                    ckpt.description(), bytes / 1e9, limit.bytes() / 1e9, limit.source()));
        }
    }

    /** The checkpoint directory the model was loaded from; null for a {@linkplain #random random} model. */
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
