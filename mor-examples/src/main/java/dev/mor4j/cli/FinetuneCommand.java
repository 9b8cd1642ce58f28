package dev.mor4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MemoryPeak;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.MorForm;
import dev.mor4j.core.train.MetricsLog;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.TrainableBase;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.FineTuneResult;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.MetricsFile;
import dev.mor4j.llama.train.RankSelection;
import dev.mor4j.llama.train.Recompute;
import dev.mor4j.llama.train.StepBackend;
import dev.mor4j.llama.train.TrainingData;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code mor finetune}: trains an adapter on Tulu-v2 conversations. Without arguments it runs a short MoR
 * fine-tuning of the bundled tiny model on the bundled 16-conversation sample. With {@code --method more} each
 * conversation's {@code dataset} is its task ({@link FinetuneData}), and the run ends with the rank each task chose
 * in each module: a table on standard output, {@code ranks.png} and {@code router_stats.json}. With {@code --method
 * full} every base weight is trained instead of an adapter, and the result is a model directory, {@code <out>/final}.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune a LLaMA model's adapter (MoR, LoRA, DoRA, MoELoRA or MoRE), or all its weights"
                + " (--method full), on Tulu-v2 JSONL.",
            "Without arguments: MoR (8 experts, r 8, alpha 32) on the bundled tiny model and Tulu sample, 40 steps.",
            "Writes the adapter (PEFT layout), checkpoint-<step>/, metrics.jsonl, loss.png, router.png (mean router"
                    + " weight per module x expert for each source dataset) and config.json to the output directory.",
            "--method full trains every base weight (full fine-tuning, AdamW in float32) and writes the model to"
                    + " final/ (a Hugging Face model directory, float32) instead of an adapter; adapter flags do not"
                    + " apply to it.",
            "--method more (MoRE: one task per dataset, each choosing a rank of one shared LoRA pair per module) also"
                    + " prints the rank table and writes ranks.png and router_stats.json (the selector's"
                    + " probabilities).",
            "Progress goes to standard error; a summary to standard output.", ""})
final class FinetuneCommand implements Callable<Integer> {

    /** Optimizer steps when neither --epochs nor --max-steps is given: a short demonstration run. */
    static final long DEFAULT_MAX_STEPS = 40;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Hugging Face model directory (default: the bundled tiny LLaMA, testdata/models/tiny-llama-f32).")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Directory with tokenizer.json, or the file (default: the model directory; for the bundled"
                    + " models, which have none, the bundled sp-bpe-32k).")
    Path tokenizer;

    @Option(names = "--data", paramLabel = "FILE",
            description = "Tulu-v2 JSONL (default: the bundled sample, testdata/tulu/tulu_v2_sample.jsonl).")
    Path data;

    @Option(names = "--strict", description = "Stop at the first bad line instead of skipping it.")
    boolean strict;

    @Option(names = "--max-len", paramLabel = "N", defaultValue = "256",
            description = "Maximum tokens per example (default: ${DEFAULT-VALUE}).")
    int maxLen;

    @Option(names = "--method", paramLabel = "NAME", defaultValue = "mor",
            description = "mor, lora, dora, moelora, more, or full (every base weight trained, no adapter)"
                    + " (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--router", paramLabel = "NAME", defaultValue = "softmax",
            description = "MoR/MoELoRA router: softmax, mean, balanced or topk (default: ${DEFAULT-VALUE}).")
    String router;

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "2",
            description = "Experts kept by the topk router (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--experts", paramLabel = "N", defaultValue = "8",
            description = "Experts N of MoR/MoELoRA (default: ${DEFAULT-VALUE}).")
    int experts;

    @Option(names = "--rank", paramLabel = "N", defaultValue = "8",
            description = "Rank r; for MoRE the largest rank R (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--alpha", paramLabel = "X", defaultValue = "32",
            description = "lora_alpha; updates are scaled by alpha/r (default: ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--dropout", paramLabel = "X", defaultValue = "0.05",
            description = "Adapter dropout (default: ${DEFAULT-VALUE}).")
    double dropout;

    @Option(names = "--targets", paramLabel = "NAME", split = ",", defaultValue = "gate_proj,up_proj,down_proj",
            description = "Projections to adapt (default: ${DEFAULT-VALUE}).")
    List<String> targets;

    @Option(names = "--form", paramLabel = "NAME",
            description = "How MoR computes its sum over experts: expanded (one LoRA of rank N*r, the cheapest), stacked"
                    + " (the paper's eq. 15: all experts' outputs as one [tokens, N, d_out] tensor, weighted by the"
                    + " router and summed) or loop (one expert at a time). Changes time and memory, not the result"
                    + " (default: expanded).")
    String form;

    @Option(names = "--rank-experts", paramLabel = "R", split = ",",
            description = "MoRE's rank experts r_1 < ... < r_K <= --rank, e.g. 1,2,4,8 (default: 1,2,...,r).")
    List<Integer> rankExperts;

    @Option(names = "--task-loss-weight", paramLabel = "X",
            description = "MoRE's task-alignment loss weight (default: " + AdapterConfig.DEFAULT_TASK_LOSS_WEIGHT + ").")
    Double taskLossWeight;

    @Option(names = "--task-temperature", paramLabel = "X",
            description = "MoRE's task-alignment temperature (default: " + AdapterConfig.DEFAULT_TASK_TEMPERATURE + ").")
    Double taskTemperature;

    @Option(names = "--tasks", paramLabel = "NAME", split = ",",
            description = "MoRE's tasks, in task-id order (default: the distinct dataset values of the data, sorted);"
                    + " a conversation of another dataset stops the run, naming its line.")
    List<String> tasks;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "1e-2",
            description = "Peak learning rate (default: ${DEFAULT-VALUE}). The paper uses 2e-4 for LLaMA-2 7B; the"
                    + " bundled model is random and tiny (hidden 32): in the 40-step demo its loss goes 10.96 -> 10.88"
                    + " at 2e-4 but 10.85 -> 8.41 at 1e-2, hence the higher default. Use about 2e-4 for real models.")
    double lr;

    @Option(names = "--schedule", paramLabel = "NAME", defaultValue = "linear",
            description = "linear, cosine or constant (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--warmup-ratio", paramLabel = "X", defaultValue = "0.03",
            description = "Fraction of steps warming up (default: ${DEFAULT-VALUE}).")
    double warmupRatio;

    @Option(names = "--epochs", paramLabel = "X", description = "Passes over the data (instead of --max-steps).")
    Double epochs;

    @Option(names = "--max-steps", paramLabel = "N",
            description = "Optimizer steps (default: " + DEFAULT_MAX_STEPS + " unless --epochs is given).")
    Long maxSteps;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "4",
            description = "Examples per micro-batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--grad-accum", paramLabel = "N", defaultValue = "1",
            description = "Micro-batches per optimizer step (default: ${DEFAULT-VALUE}).")
    int gradAccum;

    @Option(names = "--group-by-length", description = "Batch examples of similar length together.")
    boolean groupByLength;

    @Option(names = "--packing", paramLabel = "WHEN", defaultValue = "on",
            description = "on: pack each micro-batch's examples into rows of at most the longest example's length, each"
                    + " attending only to itself with positions from 0 (same loss and gradients, fewer padding"
                    + " positions); off: right-pad one example per row as transformers does (default: ${DEFAULT-VALUE}).")
    String packing;

    @Option(names = "--loss-reduction", paramLabel = "NAME", defaultValue = "mean",
            description = "mean over a batch's answer tokens, or sum (default: ${DEFAULT-VALUE}).")
    String lossReduction;

    @Option(names = "--weight-decay", paramLabel = "X", defaultValue = "0",
            description = "AdamW weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--max-grad-norm", paramLabel = "X", defaultValue = "1.0",
            description = "Gradient clipping; 0 disables (default: ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "Seed of initialisation, shuffling and dropout (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Output directory (default: runs/finetune-<date>-<time>, or the run being resumed).")
    Path out;

    @Option(names = "--save-steps", paramLabel = "N", defaultValue = "20",
            description = "Checkpoint every this many steps; 0: only at the end (default: ${DEFAULT-VALUE}).")
    long saveSteps;

    @Option(names = "--save-total-limit", paramLabel = "N", defaultValue = "2",
            description = "Checkpoints kept; 0 keeps all (default: ${DEFAULT-VALUE}).")
    int saveTotalLimit;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "Continue a run from its latest checkpoint (a run directory) or from a checkpoint-<step>"
                    + " directory. Flags not given are taken from the run's config.json.")
    Path resume;

    @Option(names = "--recompute", paramLabel = "WHEN", defaultValue = "auto", converter = RecomputeConverter.class,
            description = "Recompute each layer's activations in the backward pass instead of keeping them: auto (when"
                    + " the run would not fit in memory otherwise), on or off (default: ${DEFAULT-VALUE}). Changes the"
                    + " cost, never the result.")
    Recompute recompute;

    /** Parses --recompute with the library's message. */
    static final class RecomputeConverter implements picocli.CommandLine.ITypeConverter<Recompute> {
        @Override
        public Recompute convert(String value) {
            return Recompute.parse(value);
        }
    }

    @Option(names = "--spark", paramLabel = "MASTER", arity = "0..1", fallbackValue = "",
            description = "Compute each step's micro-batches on Apache Spark's executors (data parallel; the same"
                    + " result as here): a master URL such as local[2], spark://host:7077, yarn or k8s://...; without"
                    + " one, the master spark-submit set. Needs module mor-spark (see docs/distributed.md).")
    String spark;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "0",
            description = "With --spark: partitions per step, each a run of the step's --grad-accum micro-batches"
                    + " (default: Spark's default parallelism, its executors' cores).")
    int partitions;

    @Option(names = "--overwrite",
            description = "Replace a previous run in --out (only its files), or write into a non-empty directory.")
    boolean overwrite;

    /** The flags that configure an adapter, which {@code --method full} does not have. */
    static final List<String> ADAPTER_FLAGS =
            List.of("--rank", "--alpha", "--dropout", "--targets", "--experts", "--router", "--top-k", "--form");

    @Override
    public Integer call() {
        PrintStream err = System.err;
        Path runToResume = resume == null ? null : RunDirectory.runOf(resume);
        FinetuneSettings s = settings(runToResume == null ? null : RunDirectory.readConfig(runToResume));
        s.validate();
        if (s.isFull()) {
            refuseAdapterFlags();
        }
        Path outDir = (out != null ? out : runToResume != null ? runToResume : RunDirectory.defaultFor(LocalDateTime.now()))
                .toAbsolutePath().normalize();
        boolean clear = RunDirectory.check(outDir, outDir.equals(runToResume), overwrite);
        if (!Files.isDirectory(Path.of(s.model()))) {
            throw new MorException(s.model() + ": not a directory (expected a Hugging Face model directory)");
        }
        if (spark == null && partitions != 0) {
            throw new MorException("--partitions " + partitions + " is for --spark runs; add --spark MASTER");
        }
        try (StepBackend backend = spark == null ? null : StepBackend.find("spark", spark, partitions)) {
            return train(s, outDir, clear, backend, err);
        }
    }

    /** Stops a full fine-tuning run given adapter flags, which would otherwise be silently ignored. */
    private void refuseAdapterFlags() {
        ParseResult parsed = spec.commandLine().getParseResult();
        List<String> given = ADAPTER_FLAGS.stream().filter(parsed::hasMatchedOption).toList();
        if (!given.isEmpty()) {
            throw new MorException(String.join(", ", given) + (given.size() == 1 ? " configures" : " configure")
                    + " an adapter; --method full trains every base weight and has none: leave "
                    + (given.size() == 1 ? "it" : "them") + " out");
        }
    }

    /** Reads the data, builds the run (computing its steps with {@code backend} when not null), trains, reports. */
    private int train(FinetuneSettings s, Path outDir, boolean clear, StepBackend backend, PrintStream err) {
        FinetuneData data = FinetuneData.read(s, Tokenizer.load(Path.of(s.tokenizer())), err);
        List<EncodedExample> examples = data.examples();
        TrainingData plan = new TrainingData(examples, s.batch(), s.gradAccum(), s.seed(), s.groupByLength());
        long steps = s.epochs() != null ? plan.stepsFor(s.epochs()) : s.maxSteps();
        TrainConfig trainConfig = s.trainConfig(steps);

        long loadStart = System.nanoTime();
        LlamaModel llama = LlamaModel.load(Path.of(s.model()));
        err.printf(Locale.ROOT, "loaded %s in %.1f s%n", s.model(), (System.nanoTime() - loadStart) / 1e9);
        LlamaAdapters adapters = s.isFull() ? null : LlamaAdapters.create(llama.weights(),
                s.adapterConfig(data.tasks() == null ? null : data.tasks().names()), s.seed());
        ProgressReporter progress = new ProgressReporter(err, steps, System.console() != null);
        if (s.form() != null) {
            err.println("MoR form: " + s.form());
        }
        // built (and its memory plan checked) before anything in the output directory changes
        LlamaFineTune.Builder builder = s.isFull()
                ? LlamaFineTune.builder(llama, TrainableBase.of(llama.weights()), examples)
                        .tokenizer(Path.of(s.tokenizer()))
                : LlamaFineTune.builder(llama, adapters, examples).morForm(s.morForm());
        LlamaFineTune ft = builder.trainConfig(trainConfig)
                .options(s.options()).packing(s.packed()).outputDir(outDir).baseModelName(s.model())
                .messages(err::println).recompute(recompute).listener(progress).backend(backend).build();
        if (clear) {
            RunDirectory.clearPreviousRun(outDir);
        }
        createDirectories(outDir);
        err.println("output: " + outDir);
        Path resumedFrom = resume == null ? null : ft.resume(resume);
        RunDirectory.writeConfig(outDir, FinetuneReport.config(s, ft, data, resumedFrom));

        FineTuneResult result;
        long peakResident;
        try (progress; MemoryPeak peak = new MemoryPeak()) {
            progress.start(ft.trainer().globalStep());
            result = ft.train();
            peakResident = peak.physicalBytes();
        }
        List<Path> plots = new ArrayList<>(List.of(outDir.resolve(RunDirectory.LOSS_PNG)));
        TrainingPlots.loss(MetricsFile.read(outDir.resolve(MetricsLog.FILE)), plots.get(0));
        if (!ft.routerStats().isEmpty()) {
            plots.add(outDir.resolve(RunDirectory.ROUTER_PNG));
            TrainingPlots.router(ft.routerStats(), plots.get(1));
        } else {
            err.println("router.png: not drawn, " + s.method() + " has no router");
        }
        RankSelection ranks = null;
        if (ft.tasks() != null) {
            ranks = RankSelection.of(adapters); // what the run saved as router_stats.json
            plots.add(outDir.resolve(RunDirectory.RANKS_PNG));
            TrainingPlots.ranks(ranks, plots.get(plots.size() - 1));
        }
        FinetuneReport.printSummary(outDir, result, plots, ranks, ft.data().packing(), s.isFull());
        if (backend != null) {
            backend.summary().forEach(System.out::println);
        }
        System.out.printf(Locale.ROOT, "peak memory while training: %.2f GB resident (the memory plan estimated %.2f"
                + " GB, %s recomputation)%n", peakResident / 1e9, ft.memoryPlan().peak(ft.recomputing()) / 1e9,
                ft.recomputing() ? "with" : "without");
        return 0;
    }

    /** The flags given, over the resumed run's settings when there is one, with defaults resolved. */
    private FinetuneSettings settings(ObjectNode resumedRun) {
        FinetuneSettings given = new FinetuneSettings(path(model), path(tokenizer), path(data), maxLen, strict, method,
                router, topK, experts, rank, alpha, dropout, targets, lr, schedule, warmupRatio, epochs, maxSteps,
                batch, gradAccum, seed, saveSteps, saveTotalLimit, weightDecay, maxGradNorm, groupByLength,
                lossReduction, packing, rankExperts, taskLossWeight, taskTemperature, tasks, form);
        ObjectNode flags = JSON.valueToTree(given);
        ObjectNode merged;
        if (resumedRun == null) {
            merged = flags;
        } else {
            merged = ((ObjectNode) resumedRun.get("settings")).deepCopy();
            ParseResult parsed = spec.commandLine().getParseResult();
            for (OptionSpec o : spec.options()) {
                String key = o.longestName().replaceFirst("^--", "").replace('-', '_');
                if (parsed.hasMatchedOption(o) && flags.has(key)) {
                    merged.set(key, flags.get(key));
                }
            }
            if (parsed.hasMatchedOption("--epochs")) {
                merged.remove("max_steps");
            }
            if (parsed.hasMatchedOption("--max-steps")) {
                merged.remove("epochs");
            }
            if (!merged.hasNonNull("packing")) {
                merged.put("packing", "off"); // a run from before --packing padded its batches: resume it bit for bit
            }
        }
        if ("mor".equals(merged.path("method").asText()) && !merged.hasNonNull("form")) {
            merged.put("form", MorForm.EXPANDED.cliName()); // also what a run from before --form computed
        }
        if (!merged.hasNonNull("epochs") && !merged.hasNonNull("max_steps")) {
            merged.put("max_steps", DEFAULT_MAX_STEPS);
        }
        if (!merged.hasNonNull("model")) {
            merged.put("model", BundledData.tinyModel().toString());
        }
        if (!merged.hasNonNull("data")) {
            merged.put("data", BundledData.tuluSample().toString());
        }
        if (!merged.hasNonNull("tokenizer")) {
            merged.put("tokenizer", defaultTokenizer(Path.of(merged.get("model").asText())).toString());
        }
        try {
            return JSON.treeToValue(merged, FinetuneSettings.class);
        } catch (IOException e) {
            throw new MorException("config.json: 'settings' cannot be read: " + e.getMessage(), e);
        }
    }

    /** The model directory when it holds tokenizer.json; the bundled tokenizer for the bundled models. */
    private static Path defaultTokenizer(Path modelDir) {
        if (Files.isRegularFile(modelDir.resolve(Tokenizer.FILE_NAME))) {
            return modelDir;
        }
        if (BundledData.isBundledModel(modelDir)) {
            return BundledData.tinyTokenizer();
        }
        throw new MorException(modelDir + ": no " + Tokenizer.FILE_NAME + " in the model directory; pass --tokenizer DIR");
    }

    private static String path(Path p) {
        return p == null ? null : p.toAbsolutePath().normalize().toString();
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new MorException(dir + ": cannot create the output directory: " + e.getMessage(), e);
        }
    }
}
