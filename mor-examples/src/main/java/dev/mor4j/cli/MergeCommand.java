package dev.mor4j.cli;

import dev.mor4j.llama.adapter.AdapterMerge;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mor merge}: fold a LoRA/DoRA adapter into the base model and write a new checkpoint directory. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Fold a LoRA or DoRA adapter into the base weights (PEFT's merge_and_unload) and write a",
            "Hugging Face model directory (config.json, model.safetensors, tokenizer files).",
            "MoR and MoELoRA adapters are refused: their routers depend on the input."})
final class MergeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Base model directory.")
    Path model;

    @Option(names = "--adapter", required = true, description = "Adapter directory.")
    Path adapter;

    @Option(names = "--out", required = true, description = "New model directory (must not exist or be empty).")
    Path out;

    @Override
    public Integer call() {
        CliFiles.refuseOverwritingInput(out, model, adapter);
        LlamaModel m = LlamaModel.load(model);
        LlamaAdapters a = LlamaAdapters.load(m.weights(), adapter);
        AdapterMerge.write(m, a, out);
        System.err.printf("merged %s (%d modules) into %s%n", adapter, a.layers().size(), out);
        return 0;
    }
}
