package dev.mor4j.cli;

import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.MoreExport;
import dev.mor4j.llama.adapter.MoreTasks;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mor export-lora}: one task of a MoRE adapter as a plain PEFT LoRA adapter ({@link MoreExport}): each module
 * at the rank the task chose, {@code rank_pattern}/{@code alpha_pattern} where ranks differ, the scaling folded into
 * {@code lora_B}.
 */
@Command(name = "export-lora", mixinStandardHelpOptions = true,
        description = {"Write one task of a MoRE adapter as a PEFT LoRA adapter (adapter_config.json,",
            "adapter_model.safetensors) that Python PEFT (PeftModel.from_pretrained) and --adapter load, computing what",
            "the MoRE adapter computes for that task: lora_A = A[:r_k], lora_B = s*B[:, :r_k] with r_k the rank the task",
            "chose in each module; r is the largest of them, rank_pattern and alpha_pattern give the others, so that",
            "PEFT's scaling alpha/r is 1 in every module."})
final class ExportLoraCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Base model directory (the adapter is checked against it).")
    Path model;

    @Option(names = "--adapter", required = true, description = "MoRE adapter directory.")
    Path adapter;

    @Option(names = "--task", required = true, paramLabel = "NAME", description = "The task to export.")
    String task;

    @Option(names = "--out", required = true, description = "New adapter directory (must not exist or be empty).")
    Path out;

    @Override
    public Integer call() {
        CliFiles.refuseOverwritingInput(out, model, adapter);
        LlamaModel m = LlamaModel.load(model);
        LlamaAdapters more = LlamaAdapters.load(m.weights(), adapter);
        int id = CliTasks.named(task, more, adapter);
        String baseModel = more.config().baseModelNameOrPath() != null ? more.config().baseModelNameOrPath()
                : model.toString();
        LlamaAdapters lora = MoreExport.writeLora(m.weights(), more, id, out, baseModel);
        Map<String, Integer> ranks = MoreTasks.chosenRanks(more, id);
        int patterns = lora.config().rankPattern() == null ? 0 : lora.config().rankPattern().size();
        System.err.printf("wrote %s: the LoRA of task %s, r %d, ranks per module %s (%d in rank_pattern)%n", out, task,
                lora.config().r(), ranks.values(), patterns);
        return 0;
    }
}
