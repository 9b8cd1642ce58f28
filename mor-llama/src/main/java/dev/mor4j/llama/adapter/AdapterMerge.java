package dev.mor4j.llama.adapter;

import dev.mor4j.core.FileTrees;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.adapter.AdapterMethod;
import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.ShardPlan;
import dev.mor4j.core.safetensors.ShardedCheckpoint;
import dev.mor4j.core.safetensors.ShardedCheckpointWriter;
import dev.mor4j.core.safetensors.TensorSpec;
import dev.mor4j.core.safetensors.TensorValues;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.ModelFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Folds a LoRA or DoRA adapter into the base weights (PEFT's {@code merge_and_unload}) and writes a Hugging
 * Face checkpoint directory as {@code save_pretrained} does: the weights in the base checkpoint's stored dtype
 * (or another one asked for), {@code model.safetensors} or shards of at most 5 GB with
 * {@code model.safetensors.index.json}. MoR and MoELoRA cannot be merged: their update depends on each token
 * through the router. A MoRE adapter is merged one task at a time, as the LoRA of that task
 * ({@link MoreExport#merge}).
 *
 * <p>Each merged weight {@code W + s·B·A} is computed when the writer reaches it and released once written, so
 * merging needs the base model's memory plus one projection, not a second copy of the model.
 */
public final class AdapterMerge {

    private AdapterMerge() {
    }

    /** The merged weights {@code [d_out, d_in]} by module name. */
    public static Map<String, INDArray> mergedWeights(LlamaAdapters adapters) {
        checkMergeable(adapters);
        Map<String, INDArray> merged = new LinkedHashMap<>();
        for (Map.Entry<String, AdapterLayer> e : adapters.layers().entrySet()) {
            merged.put(e.getKey(), e.getValue().mergedWeight(adapters.weights()));
        }
        return merged;
    }

    private static void checkMergeable(LlamaAdapters adapters) {
        AdapterMethod method = adapters.config().method();
        if (method == AdapterMethod.MORE) {
            throw new MorException("a MORE adapter holds one LoRA per task: merge it for one task (./mor merge --task "
                    + "NAME, MoreExport.merge); its tasks are " + adapters.config().taskNames());
        }
        if (method != AdapterMethod.LORA && method != AdapterMethod.DORA) {
            throw new MorException("a " + method + " adapter cannot be merged into the base weights: its router weighs "
                    + "the experts differently for every token, so no single weight matrix computes the same function; "
                    + "load it with --adapter instead");
        }
    }

    /** As {@link #write(LlamaModel, LlamaAdapters, Path, DType, long)} in the base's dtype, in 5 GB shards. */
    public static ShardPlan write(LlamaModel model, LlamaAdapters adapters, Path out) {
        return write(model, adapters, out, null, ShardedCheckpointWriter.DEFAULT_MAX_SHARD_SIZE);
    }

    /**
     * Writes {@code out} (which must not exist, or be an empty directory) with the merged weights, the model
     * directory's {@code config.json} (its {@code dtype}/{@code torch_dtype} set to the written dtype) and its
     * other small files (tokenizer, generation config). The directory is assembled under a temporary name and
     * renamed at the end.
     *
     * @param dtype        the stored type of every weight: F32, BF16 or F16; null for the base checkpoint's own
     *                     (the type most of its parameters are stored in, see {@link DType#mostCommonFloat})
     * @param maxShardSize the most data bytes per safetensors file (transformers' {@code max_shard_size})
     * @return the files written
     */
    public static ShardPlan write(LlamaModel model, LlamaAdapters adapters, Path out, DType dtype, long maxShardSize) {
        checkMergeable(adapters);
        if (model.directory() == null) {
            throw new MorException("the model was initialised at random and has no directory: merging writes the base"
                    + " checkpoint's files; save the model first");
        }
        if (Files.exists(out) && !isEmptyDir(out)) {
            throw new MorException(out + ": already exists and is not empty; choose a new --out directory");
        }
        DType stored = dtype != null ? dtype : baseDType(model.directory());
        if (!stored.isFloatingPoint()) {
            throw new MorException("dtype " + stored + ": expected F32, BF16 or F16 for model weights");
        }
        // key → base weight ([d_out, d_in] or [H]), in save_pretrained's order
        Map<String, INDArray> base = model.weights().stateDict(Map.of());
        List<TensorSpec> specs = new ArrayList<>();
        base.forEach((key, w) -> specs.add(new TensorSpec(key, stored, w.shape())));
        Path parent = out.toAbsolutePath().getParent();
        Path tmp = parent.resolve("." + out.getFileName() + ".tmp");
        try {
            FileTrees.deleteQuietly(tmp);
            Files.createDirectories(tmp);
            ModelFiles.copyOtherFiles(model.directory(), tmp, stored);
            ShardPlan plan =
                    ShardedCheckpointWriter.write(tmp, specs, s -> values(adapters, base, s.key()), maxShardSize);
            if (Files.exists(out)) {
                Files.delete(out); // an empty directory
            }
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            return plan;
        } catch (IOException e) {
            throw new MorException(out + ": cannot write the merged checkpoint: " + e.getMessage(), e);
        } finally {
            FileTrees.deleteQuietly(tmp);
        }
    }

    /** The floating-point type most of the base checkpoint's parameters are stored in. */
    static DType baseDType(Path modelDir) {
        try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(modelDir)) {
            return DType.mostCommonFloat(ckpt);
        }
    }

    /** A weight's values: the merged weight for an adapted projection (released once written), else the base's. */
    private static TensorValues values(LlamaAdapters adapters, Map<String, INDArray> base, String key) {
        AdapterLayer layer = key.endsWith(".weight")
                ? adapters.layers().get(key.substring(0, key.length() - ".weight".length())) : null;
        if (layer == null) {
            return TensorValues.of(base.get(key));
        }
        return TensorValues.owning(layer.mergedWeight(adapters.weights())); // [d_out, d_in], released once written
    }

    private static boolean isEmptyDir(Path p) {
        try (Stream<Path> s = Files.list(p)) {
            return Files.isDirectory(p) && s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
