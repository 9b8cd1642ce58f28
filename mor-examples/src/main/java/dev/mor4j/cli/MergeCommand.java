package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.ShardPlan;
import dev.mor4j.core.safetensors.ShardedCheckpointWriter;
import dev.mor4j.llama.adapter.AdapterMerge;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.MoreExport;
import dev.mor4j.llama.adapter.MoreTasks;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mor merge}: fold a LoRA/DoRA adapter, or one task of a MoRE adapter, into the base model and write a new
 * checkpoint directory.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Fold a LoRA or DoRA adapter into the base weights (PEFT's merge_and_unload) and write a",
            "Hugging Face model directory as save_pretrained does (config.json, model.safetensors or 5 GB shards",
            "with model.safetensors.index.json, tokenizer files), in the base checkpoint's dtype.",
            "A MoRE adapter is merged for one task (--task NAME): each module's chosen rank of that task.",
            "MoR and MoELoRA adapters are refused: their routers depend on the input."})
final class MergeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Base model directory.")
    Path model;

    @Option(names = "--adapter", required = true, description = "Adapter directory.")
    Path adapter;

    @Option(names = "--out", required = true, description = "New model directory (must not exist or be empty).")
    Path out;

    @Option(names = "--task", paramLabel = "NAME",
            description = "MoRE adapters (required with one): the task whose chosen ranks are folded in.")
    String task;

    @Option(names = "--dtype", defaultValue = "auto",
            description = "Stored type of the merged weights: auto (the type most of the base checkpoint's weights are"
                    + " stored in; the default), float32, bfloat16 or float16.")
    String dtype;

    @Option(names = "--max-shard-size", defaultValue = "5GB",
            description = "Most bytes of weights per safetensors file, as transformers' max_shard_size: 5GB (the"
                    + " default), 500MB, 2GiB or a number of bytes. Everything within one file is model.safetensors.")
    String maxShardSize;

    @Override
    public Integer call() {
        DType stored = parseDType(dtype);
        long shardBytes = parseShardSize(maxShardSize);
        CliFiles.refuseOverwritingInput(out, model, adapter);
        LlamaModel m = LlamaModel.load(model);
        LlamaAdapters a = LlamaAdapters.load(m.weights(), adapter);
        String what = adapter.toString();
        ShardPlan plan;
        if (MoreTasks.isMore(a)) {
            int id = CliTasks.named(task, a, adapter);
            plan = MoreExport.merge(m, a, id, out, stored, shardBytes);
            what += " task " + task + " (ranks " + MoreTasks.chosenRanks(a, id).values() + ")";
        } else {
            CliTasks.refuseWithoutMore(task, a, adapter);
            plan = AdapterMerge.write(m, a, out, stored, shardBytes);
        }
        DType written = plan.shards().get(0).tensors().get(0).dtype();
        System.err.printf("merged %s (%d modules) into %s (%s, %d file%s)%n", what, a.layers().size(), out,
                written.torchName(), plan.shards().size(), plan.isSharded() ? "s and an index" : "");
        return 0;
    }

    /** null for auto. */
    private static DType parseDType(String name) {
        if (name.equals("auto")) {
            return null;
        }
        try {
            return DType.floatType(name);
        } catch (MorException e) {
            throw new MorException("--dtype '" + name + "': expected auto, float32, bfloat16 or float16");
        }
    }

    private static long parseShardSize(String text) {
        try {
            return ShardedCheckpointWriter.parseSize(text);
        } catch (MorException e) {
            throw new MorException("--max-shard-size: " + e.getMessage());
        }
    }
}
