package dev.mor4j.llama.adapter;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.adapter.LoraLayer;
import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.ShardPlan;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.LlamaWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One task of a MoRE adapter as the plain LoRA it amounts to, to save as a PEFT LoRA adapter or to merge into the
 * base weights. For task t, module m uses the rank {@code r_m = r_k*} its selector chose, and its update is
 * {@code s·B[:, :r_m] A[:r_m] x} (the straight-through weight is exactly 1 forward), so the LoRA of module m is
 * <pre>
 *   A'_m = A_m[:r_m]              [r_m, d_in]
 *   B'_m = s · B_m[:, :r_m]        [d_out, r_m]
 * </pre>
 * with the scaling folded into B. Its config is PEFT's LoRA config with {@code r = R' = max_m r_m},
 * {@code lora_alpha = R'}, and for every module whose rank differs from R' the entries
 * {@code rank_pattern[m] = r_m} and {@code alpha_pattern[m] = r_m} (keys are full module names such as
 * {@code model.layers.0.mlp.up_proj}), so that PEFT's scaling {@code α/r} is 1 in every module and PEFT computes
 * {@code W x + B'_m A'_m x}; {@code use_rslora} is false.
 */
public final class MoreExport {

    private MoreExport() {
    }

    /**
     * The LoRA adapter that computes what the MoRE adapter computes for one task.
     *
     * @param task a task id of {@code more}
     * @throws MorException when {@code more} is not MoRE or the task id is out of range
     */
    public static LlamaAdapters lora(LlamaWeights model, LlamaAdapters more, int task) {
        Map<String, Integer> ranks = MoreTasks.chosenRanks(more, task); // module → r_m
        int top = Collections.max(ranks.values());
        Map<String, Integer> rankPattern = new LinkedHashMap<>();
        Map<String, Double> alphaPattern = new LinkedHashMap<>();
        Map<String, INDArray> weights = new LinkedHashMap<>();
        MoreTasks.layers(more).forEach((module, layer) -> {
            int rank = ranks.get(module);
            if (rank != top) {
                rankPattern.put(module, rank);
                alphaPattern.put(module, (double) rank);
            }
            INDArray[] ab = layer.taskLora(more.weights(), task); // {A' [r_m, d_in], B' [d_out, r_m]}
            String prefix = LlamaAdapters.PEFT_PREFIX + module + ".";
            weights.put(prefix + LoraLayer.LORA_A, ab[0].castTo(DataType.FLOAT)); // [r_m, d_in]
            weights.put(prefix + LoraLayer.LORA_B, ab[1].castTo(DataType.FLOAT)); // [d_out, r_m]
        });
        AdapterConfig c = more.config();
        AdapterConfig config = AdapterConfig.lora().rank(top).alpha(top).dropout(c.loraDropout())
                .targetModules(c.targetModules()).taskType(c.taskType()).baseModel(c.baseModelNameOrPath())
                .rankPattern(rankPattern).alphaPattern(alphaPattern).build();
        return LlamaAdapters.of(model, config, weights, "the LoRA of task " + more.config().taskNames().get(task));
    }

    /** As {@link #lora(LlamaWeights, LlamaAdapters, int)} for a task name. */
    public static LlamaAdapters lora(LlamaWeights model, LlamaAdapters more, String task) {
        return lora(model, more, MoreTasks.id(more, task));
    }

    /**
     * Writes the LoRA of one task as a PEFT adapter directory ({@code adapter_config.json},
     * {@code adapter_model.safetensors} in F32), which Python PEFT's {@code PeftModel.from_pretrained} and
     * {@link LlamaAdapters#load} load.
     *
     * @param out       a directory that does not exist or is empty
     * @param baseModel {@code base_model_name_or_path}; null keeps the MoRE adapter's
     * @return the LoRA written
     */
    public static LlamaAdapters writeLora(LlamaWeights model, LlamaAdapters more, int task, Path out,
            String baseModel) {
        requireEmpty(out);
        LlamaAdapters lora = lora(model, more, task);
        AdapterFiles.save(out, baseModel == null ? lora.config() : lora.config().withBaseModel(baseModel),
                lora.weights());
        return lora;
    }

    /**
     * Folds one task's LoRA into the base weights and writes the checkpoint as {@link AdapterMerge#write} does (the
     * base's dtype unless {@code dtype} is given, shards of at most {@code maxShardSize} bytes).
     */
    public static ShardPlan merge(LlamaModel model, LlamaAdapters more, int task, Path out, DType dtype,
            long maxShardSize) {
        return AdapterMerge.write(model, lora(model.weights(), more, task), out, dtype, maxShardSize);
    }

    private static void requireEmpty(Path out) {
        if (!Files.exists(out)) {
            return;
        }
        try (Stream<Path> s = Files.list(out)) {
            if (s.findAny().isPresent()) {
                throw new MorException(out + ": already exists and is not empty; choose a new --out directory");
            }
        } catch (IOException e) {
            throw new MorException(out + ": not an empty directory (" + e.getMessage() + ")");
        }
    }
}
