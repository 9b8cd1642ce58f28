package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.core.train.MetricsLog;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.TrainableBase;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.FineTuneResult;
import dev.mor4j.llama.train.FullCheckpoint;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.MetricsFile;
import dev.mor4j.tasks.BenchmarkFiles;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mor make-base}: pre-trains the benchmark's small base model from random weights on the pre-training corpus of
 * a {@code make-tasks} directory, with full fine-tuning ({@link LlamaFineTune} over a {@link TrainableBase}), and writes
 * it as a Hugging Face model directory with the benchmark's tokenizer ({@link FullCheckpoint}), which
 * {@code finetune --model}, {@code eval} and {@code generate} load as any model. The same inputs, flags and seed
 * write a byte-identical {@code model.safetensors}.
 */
@Command(name = "make-base", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Pre-train the benchmark's small LLaMA from random weights on DIR/pretrain.jsonl of a make-tasks"
                + " directory (every weight trained, loss on the answers) and write it to --out as a Hugging Face"
                + " model directory: config.json, model.safetensors (float32), the benchmark's tokenizer, and"
                + " pretraining/ (make_base.json with the settings and losses, metrics.jsonl, loss.png).",
            "The same inputs and flags write a byte-identical model.safetensors. Progress goes to standard error; a"
                    + " summary to standard output.", ""})
final class MakeBaseCommand implements Callable<Integer> {

    /** Steps whose mean loss the summary reports at the start and the end. */
    static final int LOSS_WINDOW = 20;

    @Option(names = "--tasks", paramLabel = "DIR", required = true,
            description = "The output of make-tasks: pretrain.jsonl and tokenizer/.")
    Path tasks;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "The model directory to write (new or empty; a base model written earlier with --overwrite).")
    Path out;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "Seed of the initial weights and the data order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--layers", paramLabel = "N", defaultValue = "2",
            description = "num_hidden_layers (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--hidden", paramLabel = "N", defaultValue = "256",
            description = "hidden_size (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--intermediate", paramLabel = "N", defaultValue = "688",
            description = "intermediate_size, the MLP's width (default: ${DEFAULT-VALUE}, 8/3 of 256 rounded up to a"
                    + " multiple of 16).")
    int intermediate;

    @Option(names = "--heads", paramLabel = "N", defaultValue = "4",
            description = "num_attention_heads, also the key/value heads (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--max-positions", paramLabel = "N", defaultValue = "128",
            description = "max_position_embeddings (default: ${DEFAULT-VALUE}).")
    int maxPositions;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "800",
            description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "2e-3",
            description = "Peak learning rate; cosine schedule after 5 % warm-up (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32",
            description = "Conversations per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--max-len", paramLabel = "N", defaultValue = "64",
            description = "Most tokens per conversation; longer ones are cut (default: ${DEFAULT-VALUE}).")
    int maxLen;

    @Option(names = "--overwrite", description = "Replace a base model in --out (a directory holding other files is"
            + " never replaced).")
    boolean overwrite;

    @Override
    public Integer call() {
        PrintStream err = System.err;
        BaseModelSettings s = new BaseModelSettings(tasks.toAbsolutePath().normalize().toString(), seed, layers, hidden,
                intermediate, heads, maxPositions, steps, lr, batch, maxLen);
        s.validate();
        Path pretrain = tasks.resolve(BenchmarkFiles.PRETRAIN);
        Path tokenizerDir = tasks.resolve(MakeTasksCommand.TOKENIZER_DIR);
        requireFile(pretrain);
        requireFile(tokenizerDir.resolve(Tokenizer.FILE_NAME));
        BaseModelDirectory dir = BaseModelDirectory.check(out, overwrite, tasks, tokenizerDir, pretrain);

        Tokenizer tok = Tokenizer.load(tokenizerDir);
        LlamaConfig config = s.llamaConfig(tok.vocabSize(), tok.requireBosId("the chat format starts with it"),
                eosId(tok));
        List<EncodedExample> examples = TuluExamples.read(pretrain, tok, maxLen, TuluExamples.BadLines.STOP,
                TuluExamples.ConversationCheck.NONE, err);
        LlamaModel model = LlamaModel.random(config, seed);
        TrainableBase weights = TrainableBase.of(model.weights());

        long start = System.nanoTime();
        Path staging = dir.stage();
        Path record = staging.resolve(BaseModelDirectory.PRETRAINING);
        try {
            FineTuneResult result;
            LlamaFineTune ft;
            try (ProgressReporter progress = new ProgressReporter("make-base", err, steps, System.console() != null);
                    MetricsLog metrics = MetricsLog.in(record)) {
                ft = LlamaFineTune.builder(model, weights, examples).trainConfig(s.trainConfig()).options(s.options())
                        .packing(true).messages(err::println).listener(progress).listener(metrics).build();
                progress.start(0);
                result = ft.train();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            FullCheckpoint.write(staging, weights, null, tokenizerDir);
            TrainingPlots.loss(MetricsFile.read(record.resolve(MetricsLog.FILE)), record.resolve(RunDirectory.LOSS_PNG));
            BaseModelRecord.write(record.resolve(BaseModelDirectory.RECORD), s, ft, result, pretrain, seconds,
                    LOSS_WINDOW);
            dir.commit();
            printSummary(System.out, dir.out(), config, ft, result, seconds, pretrain);
        } catch (RuntimeException e) {
            dir.discard();
            throw e;
        }
        return 0;
    }

    private void printSummary(PrintStream o, Path model, LlamaConfig c, LlamaFineTune ft, FineTuneResult r,
            double seconds, Path pretrain) {
        int n = Math.min(LOSS_WINDOW, Math.max(1, r.steps().size() / 2));
        o.println("base model: " + model);
        o.printf(Locale.ROOT, "config: %d layers, hidden %d, intermediate %d, %d heads of %d, vocabulary %d, %d"
                        + " positions; %,d parameters%n", c.numHiddenLayers(), c.hiddenSize(), c.intermediateSize(),
                c.numAttentionHeads(), c.headDim(), c.vocabSize(), c.maxPositionEmbeddings(),
                ft.parameterCount().trainable());
        o.printf(Locale.ROOT, "pre-training: %d steps of %d conversations from %s (%d kept, %.2f epochs), lr %s %s%n",
                r.globalStep(), batch, pretrain, ft.data().examples().size(),
                (double) r.globalStep() / ft.data().batchesPerEpoch(), lr, BaseModelSettings.SCHEDULE.jsonName());
        o.println("tokens: " + r.tokens().format() + ", packed");
        o.printf(Locale.ROOT, "loss: %.4f -> %.4f (mean of the first and last %d steps)%n", r.meanLossOfFirst(n),
                r.meanLossOfLast(n), n);
        o.printf(Locale.ROOT, "time: %.1f s%n", seconds);
        o.println("record: " + model.resolve(BaseModelDirectory.PRETRAINING) + " (" + BaseModelDirectory.RECORD + ", "
                + MetricsLog.FILE + ", " + RunDirectory.LOSS_PNG + ")");
        o.printf("evaluate: ./mor eval --model %s --tasks %s --generate %s%n", model,
                tasks.resolve(BenchmarkFiles.TEST_MC), tasks.resolve(BenchmarkFiles.TEST_GEN));
        o.flush();
    }

    private void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new MorException(file + ": not found; --tasks expects the output of ./mor make-tasks --out " + tasks);
        }
    }

    private static int eosId(Tokenizer tok) {
        return tok.eosId().orElseThrow(() -> new MorException(tok.source() + ": the EOS token is unknown (expected"
                + " eos_token in the tokenizer_config.json beside it); the model learns to end its answers with it"));
    }
}
