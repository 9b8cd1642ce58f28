package dev.mor4j.cli;

import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.MoreTasks;
import dev.mor4j.llama.adapter.TaskSelection;
import dev.mor4j.llama.generate.GenerationConfig;
import dev.mor4j.llama.generate.GenerationResult;
import dev.mor4j.llama.generate.Generator;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mor generate}: answers a prompt with a model (and an adapter), using the key/value cache. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate text from a prompt; prints the generated text on standard output.",
            "The prompt is put in the Tulu chat format (<|user|>\\n{prompt}\\n<|assistant|>\\n) unless --no-chat,",
            "and tokenized with BOS. Greedy at temperature 0 (the default); otherwise sampled from the top-p nucleus.",
            "A MoRE adapter needs --task NAME or --task auto (the pick is printed on standard error)."})
final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelInputs inputs;

    @Option(names = "--prompt", required = true, description = "The prompt.")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "128", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 for greedy (default), else the sampling temperature.")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass in (0, 1] (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the sampler (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--no-chat", description = "Continue the prompt as it is, without the chat template.")
    boolean noChat;

    @Override
    public Integer call() {
        GenerationConfig config = new GenerationConfig(maxNewTokens, temperature, topP, seed);
        LlamaModel m = inputs.loadModel();
        Tokenizer tok = inputs.loadTokenizer();
        LlamaAdapters adapters = inputs.loadAdapters(m);
        TaskSelection tasks = inputs.taskSelection(m, adapters,
                pick -> System.err.println(CliTasks.describe(pick, MoreTasks.names(adapters))));
        Generator generator = Generator.withKvCache(m.weights(), adapters, tok, tasks);
        GenerationResult r = noChat ? generator.complete(prompt, config) : generator.chat(prompt, config);
        System.out.println(r.text());
        System.out.flush();
        System.err.printf("%d prompt tokens, %d generated (stopped: %s); prefill %.1f ms%s%n",
                r.promptIds().length, r.tokenIds().length, r.stopReason().name().toLowerCase(java.util.Locale.ROOT),
                r.prefillNanos() / 1e6, r.tokenIds().length < 2 ? ""
                        : String.format(", %.2f ms per further token", r.decodeMillisPerToken()));
        return 0;
    }
}
