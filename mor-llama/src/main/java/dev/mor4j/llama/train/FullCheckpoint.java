package dev.mor4j.llama.train;

import dev.mor4j.core.FileTrees;
import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.ShardPlan;
import dev.mor4j.core.safetensors.ShardedCheckpointWriter;
import dev.mor4j.core.safetensors.TensorSpec;
import dev.mor4j.core.safetensors.TensorValues;
import dev.mor4j.llama.config.ConfigJson;
import dev.mor4j.llama.model.ModelFiles;
import dev.mor4j.llama.model.TrainableBase;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A fully fine-tuned model written as a Hugging Face checkpoint directory, as {@code save_pretrained} writes one:
 * {@code config.json}, the weights as {@code model.safetensors} (or shards of at most 5 GB with
 * {@code model.safetensors.index.json}, {@link ShardedCheckpointWriter}) under their Hugging Face keys in
 * {@code state_dict()} order ({@code lm_head.weight} left out when tied), and the base model directory's other
 * files (tokenizer, generation config). {@code LlamaModel.load} and transformers' {@code from_pretrained} load it.
 *
 * <p>The weights are written in float32 ({@link #DTYPE}), the type they are trained in, whatever the base
 * checkpoint's type: rounding them to 16 bits would undo updates smaller than a 16-bit weight's spacing, and a
 * checkpoint that resumes exactly must hold what was trained. {@code config.json} is the base model's with its
 * {@code torch_dtype}/{@code dtype} set to {@code float32}; a model initialised at random, which has no directory,
 * gets one written from its config ({@link ConfigJson}).
 */
public final class FullCheckpoint {

    /** The stored type of every weight written. */
    public static final DType DTYPE = DType.F32;

    /** The files that come with a {@code tokenizer.json}, copied with it. */
    private static final List<String> TOKENIZER_COMPANIONS = List.of("tokenizer_config.json", "special_tokens_map.json");

    private FullCheckpoint() {
    }

    /**
     * Writes the checkpoint into {@code dir}, an existing directory without weights or {@code config.json}.
     *
     * @param baseDir   the base model's directory, whose other files are copied; null for a random model
     * @param tokenizer a {@code tokenizer.json} (or its directory) to copy, with its {@code tokenizer_config.json},
     *                  when the base directory has none (e.g. the one training used); may be null
     */
    public static ShardPlan write(Path dir, TrainableBase weights, Path baseDir, Path tokenizer) {
        Map<String, INDArray> arrays = weights.weights(); // key → [d_out, d_in], [V, H] or [H], state_dict order
        List<TensorSpec> specs = new ArrayList<>();
        arrays.forEach((key, a) -> specs.add(new TensorSpec(key, DTYPE, a.shape())));
        try {
            if (Files.exists(dir.resolve("config.json"))) {
                throw new MorException(dir + ": already holds config.json; expected a directory for a new checkpoint");
            }
            if (baseDir != null) {
                ModelFiles.copyOtherFiles(baseDir, dir, DTYPE);
            } else {
                Files.writeString(dir.resolve("config.json"), ConfigJson.of(weights.config(), DTYPE));
            }
            if (tokenizer != null && !Files.exists(dir.resolve(Tokenizer.FILE_NAME))) {
                copyTokenizer(tokenizer, dir);
            }
        } catch (IOException e) {
            throw new MorException(dir + ": cannot write the model's files: " + e.getMessage(), e);
        }
        return ShardedCheckpointWriter.write(dir, specs, s -> TensorValues.of(arrays.get(s.key())),
                ShardedCheckpointWriter.DEFAULT_MAX_SHARD_SIZE);
    }

    /**
     * Copies a {@code tokenizer.json} (or the one in a directory) into {@code dir}, with the {@code tokenizer_config.json}
     * and {@code special_tokens_map.json} beside it when there are (they name the special tokens).
     */
    private static void copyTokenizer(Path tokenizer, Path dir) throws IOException {
        boolean isDir = Files.isDirectory(tokenizer);
        Path file = isDir ? tokenizer.resolve(Tokenizer.FILE_NAME) : tokenizer;
        Path from = file.toAbsolutePath().getParent();
        Files.copy(file, dir.resolve(Tokenizer.FILE_NAME));
        for (String name : TOKENIZER_COMPANIONS) {
            if (Files.isRegularFile(from.resolve(name)) && !Files.exists(dir.resolve(name))) {
                Files.copy(from.resolve(name), dir.resolve(name));
            }
        }
    }

    /**
     * Writes the checkpoint as directory {@code out}, replacing what is there: it is assembled under a temporary
     * name beside {@code out} and renamed into place once complete, so {@code out} holds either the earlier
     * checkpoint or the new one.
     *
     * @see #write(Path, TrainableBase, Path, Path)
     */
    public static ShardPlan replace(Path out, TrainableBase weights, Path baseDir, Path tokenizer) {
        Path abs = out.toAbsolutePath();
        Path tmp = abs.getParent().resolve("." + abs.getFileName() + ".tmp");
        try {
            FileTrees.deleteQuietly(tmp);
            Files.createDirectories(tmp);
            ShardPlan plan = write(tmp, weights, baseDir, tokenizer);
            if (Files.exists(abs)) {
                FileTrees.deleteQuietly(abs);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            return plan;
        } catch (IOException e) {
            throw new MorException(out + ": cannot write the model: " + e.getMessage(), e);
        } finally {
            FileTrees.deleteQuietly(tmp);
        }
    }
}
