package dev.mor4j.llama.train;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterMethod;
import dev.mor4j.core.adapter.MorForm;
import dev.mor4j.core.adapter.ParameterCount;
import dev.mor4j.core.train.CheckpointStore;
import dev.mor4j.core.train.GradientAccumulator;
import dev.mor4j.core.train.MetricsLog;
import dev.mor4j.core.train.StepGradients;
import dev.mor4j.core.train.StepMetrics;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.core.train.TrainListener;
import dev.mor4j.core.train.Trainer;
import dev.mor4j.core.train.TrainerState;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.LlamaWeights;
import dev.mor4j.llama.model.TrainableBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Supervised fine-tuning of a LLaMA model's adapters on encoded examples (e.g. Tulu-v2): the library's
 * training entry point.
 *
 * <p>Built once, it holds one training graph ({@link MicroBatchGradients}: the graph with the loss, the feeds and
 * the adapter dropout masks drawn from {@code (seed, step, micro-batch)}), reused for every batch whatever its
 * shape. Each optimizer step takes its micro-batches from {@link TrainingData} (seeded shuffling per epoch; each
 * micro-batch's examples packed into rows of at most the longest example's length by default,
 * {@link Builder#packing}, or right-padded one per row) and lets the {@link Trainer} accumulate, clip and apply
 * AdamW. The adapter weights of {@link LlamaAdapters#weights()} are trained in place. A {@link StepBackend} may
 * compute the micro-batches elsewhere (a cluster); everything else stays here, and the results are the same bits.
 *
 * <p>With an output directory it writes what Hugging Face's Trainer writes: {@code checkpoint-<step>}
 * directories (each also a loadable PEFT adapter, with the data position and router statistics for an exact
 * resume), {@code metrics.jsonl}, and at the end the adapter itself ({@code adapter_config.json},
 * {@code adapter_model.safetensors}) and {@value RouterStats#FILE}.
 *
 * <p>Full fine-tuning ({@link #builder(LlamaModel, TrainableBase, List)}) trains every base weight instead, in float32
 * copies ({@link TrainableBase}), with the same data, schedule, AdamW, clipping, recomputation, checkpoints and exact
 * resume; there are no adapters or routers, and the steps run in this process. Its checkpoints and its final model
 * ({@value #FINAL_MODEL}/ in the output directory) are Hugging Face model directories ({@link FullCheckpoint}).
 *
 * <pre>{@code
 * LlamaModel model = LlamaModel.load(Path.of("models/llama"));
 * LlamaAdapters mor = LlamaAdapters.create(model.weights(), AdapterConfig.mor().build(), 42);
 * LlamaFineTune ft = LlamaFineTune.builder(model, mor, examples)
 *         .trainConfig(TrainConfig.builder().maxSteps(1000).build())
 *         .outputDir(Path.of("runs/mor"))
 *         .build();
 * ft.train();
 * }</pre>
 */
public final class LlamaFineTune {

    /** Where full fine-tuning writes the final model, inside the output directory. */
    public static final String FINAL_MODEL = "final";

    private final LlamaModel model;
    private final LlamaAdapters adapters; // null for full fine-tuning
    private final TrainableBase full; // null unless full fine-tuning
    private final Path tokenizer; // copied into full fine-tuning's model directories; may be null
    private final TrainConfig config;
    private final FineTuneOptions options;
    private final Path outputDir;
    private final String baseModelName;
    private final Consumer<String> messages;
    private final List<TrainListener> listeners;
    private final MicroBatchGradients gradients; // this process's graph (a backend's workers hold their own)
    private final StepBackend backend; // null: the steps run here
    private final MemoryPlan memoryPlan;
    private final boolean recomputing;
    private final TrainingData data;
    private final RouterStats routerStats;
    private final Trainer trainer;
    private final TaskIndex tasks; // null unless the adapter is MoRE
    private MetricsLog metricsLog;
    private List<StepMetrics> callMetrics;
    private FineTuneResult.Tokens callTokens;
    private boolean announced;

    private LlamaFineTune(Builder b) {
        if (b.config == null) {
            throw new MorException("fine-tuning needs a training config (TrainConfig with max_steps)");
        }
        if ((b.adapters == null) == (b.full == null)) {
            throw new MorException("fine-tuning needs either adapters or, for full fine-tuning, the base weights to train");
        }
        this.model = b.model;
        if (b.full != null && b.morForm != null) {
            throw new MorException("a MoR form (" + b.morForm + ") was asked of full fine-tuning, which has no adapters");
        }
        this.adapters = b.adapters == null ? null : withForm(b.adapters, b.morForm);
        this.full = b.full;
        this.tokenizer = b.tokenizer;
        this.config = b.config;
        this.options = b.options;
        this.outputDir = b.outputDir;
        this.baseModelName = b.baseModelName != null ? b.baseModelName
                : model.directory() != null ? model.directory().toString() : "random init";
        this.messages = b.messages;
        this.listeners = List.copyOf(b.listeners);
        this.data = new TrainingData(b.examples, options.batchSize(), config.gradientAccumulationSteps(),
                config.seed(), options.groupByLength(), b.packing);
        int longest = b.examples.stream().mapToInt(EncodedExample::length).max().orElse(1);
        long labelled = mostLabelled(b.examples, options.batchSize()); // per micro-batch
        IntFunction<MemoryPlan> planOfLength = full != null
                ? len -> MemoryPlan.fullFineTuning(model.weights(), options.batchSize(), len,
                        Math.min(labelled, (long) options.batchSize() * len))
                : len -> MemoryPlan.of(model.weights(), adapters.trainableParameters(), options.batchSize(), len,
                        Math.min(labelled, (long) options.batchSize() * len));
        this.memoryPlan = planOfLength.apply(longest);
        this.recomputing = resolve(b.recompute, memoryPlan, options.batchSize(), longest,
                len -> planOfLength.apply(len).withLimit(memoryPlan.limitBytes(), memoryPlan.limitSource()));
        if (full != null && b.backend != null) {
            throw new MorException("full fine-tuning computes its steps in this process: a step backend (--spark)"
                    + " ships adapter weights only");
        }
        this.gradients = full != null
                ? new MicroBatchGradients(model.weights(), full, config.seed(), options.lossReduction(), recomputing)
                : new MicroBatchGradients(model.weights(), adapters, config.seed(), options.lossReduction(), recomputing);
        this.tasks = gradients.tasks();
        if (tasks != null) {
            b.examples.forEach(tasks::idOf); // every example's dataset is a task, checked before any work
        }
        this.routerStats = new RouterStats(gradients.routerPrefixes(), gradients.routerExperts());
        this.backend = b.backend;
        StepGradients steps = backend == null ? this::computeHere : backend.start(new StepBackend.Run(model,
                adapters, this::microBatch, config, options, recomputing, routerStats));
        this.trainer = Trainer.ofSteps(config, gradients.trainableArrays(), steps)
                .dataPosition(() -> data.positionJson(trainer().globalStep()))
                .addListener(new Listener());
        if (outputDir != null) {
            trainer.checkpoints(new CheckpointStore(outputDir, config.saveTotalLimit()))
                    .checkpointHook((dir, step) -> writeAdapter(dir));
        }
    }

    /**
     * The most labelled positions a micro-batch of {@code batchSize} of these examples can hold, whichever examples
     * it draws: the sum of the {@code batchSize} largest label counts.
     */
    static long mostLabelled(List<EncodedExample> examples, int batchSize) {
        return examples.stream().mapToLong(EncodedExample::trainableTokens).boxed()
                .sorted(java.util.Comparator.reverseOrder()).limit(batchSize).mapToLong(Long::longValue).sum();
    }

    /**
     * The adapters computing MoR in {@code form} (null: as they are).
     *
     * @throws MorException when a form other than the default is asked of adapters that are not MoR
     */
    private static LlamaAdapters withForm(LlamaAdapters adapters, MorForm form) {
        if (form == null) {
            return adapters;
        }
        if (adapters.config().method() != AdapterMethod.MOR && form != MorForm.EXPANDED) {
            throw new MorException("MoR form " + form + " asked of " + adapters.config().method() + " adapters; only MoR"
                    + " adapters have forms");
        }
        return adapters.withMorForm(form);
    }

    /** Runs a step's micro-batches in this process, one after another, counting router weights in order. */
    private void computeHere(long step, GradientAccumulator into) {
        for (int mb = 0; mb < into.microBatches(); mb++) {
            MicroBatchGradients.Result r = gradients.compute(step, mb, microBatch(step, mb));
            if (r.router() != null) {
                routerStats.add(r.router());
            }
            into.add(mb, r.result());
        }
    }

    /** Micro-batch {@code microBatch} of step {@code step}, counted in this call's tokens. */
    private MicroBatch microBatch(long step, int microBatch) {
        MicroBatch m = data.microBatch(step, microBatch);
        if (callTokens != null) {
            callTokens = callTokens.plus(m.batch());
        }
        return m;
    }

    /**
     * Whether to recompute, from the user's choice and the plan.
     *
     * @throws MorException when the run will not fit: naming the estimate, the limit and what would fit
     */
    static boolean resolve(Recompute choice, MemoryPlan plan, int batchSize, int longest,
            IntFunction<MemoryPlan> planOfLength) {
        boolean recompute = switch (choice) {
            case ON -> true;
            case OFF -> false;
            case AUTO -> !plan.fits(false);
        };
        if (plan.fits(recompute)) {
            return recompute;
        }
        StringBuilder fix = new StringBuilder();
        if (!recompute && plan.fits(true)) {
            fix.append("recompute activations (--recompute on or auto); ");
        }
        int shorter = longestThatFits(planOfLength, longest);
        if (shorter >= 2) {
            fix.append("a max length of at most ").append(shorter).append(" tokens with batch ").append(batchSize)
                    .append(" and recomputation; ");
        }
        fix.append("or a larger limit (MOR_JAVA_OPTS=\"-Dorg.bytedeco.javacpp.maxbytes=... "
                + "-Dorg.bytedeco.javacpp.maxphysicalbytes=...\", on a machine with more memory)");
        if (plan.trainsBase()) {
            fix.append("; or an adapter (--method lora, mor, ...) instead of full fine-tuning");
        }
        throw new MorException("this run will not fit in memory: it needs about " + MemoryPlan.gb(plan.peak(recompute))
                + " (" + (plan.trainsBase() ? "weights as loaded " : "frozen weights ")
                + MemoryPlan.gb(plan.weightBytes())
                + (plan.trainsBase() ? ", trained weights + gradients + AdamW at 20 bytes per parameter "
                        : ", adapters + AdamW ") + MemoryPlan.gb(plan.adapterBytes())
                + ", activations " + MemoryPlan.gb(recompute ? plan.recomputeBytes() : plan.activationBytes())
                + " at batch " + batchSize + " and length " + longest + ", JVM "
                + MemoryPlan.gb(plan.jvmBytes())
                + (recompute ? " with" : " without") + " recomputation) but the limit is "
                + MemoryPlan.gb(plan.limitBytes()) + " (" + plan.limitSource() + "). What would fit: " + fix);
    }

    /** The longest sequence that fits with recomputation (bisection over the plan), or 0 when none does. */
    private static int longestThatFits(IntFunction<MemoryPlan> planOfLength, int longest) {
        int lo = 0;
        int hi = longest;
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (planOfLength.apply(mid).fits(true)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** The memory plan this run was checked against. */
    public MemoryPlan memoryPlan() {
        return memoryPlan;
    }

    /** Whether this run recomputes activations layer by layer ({@link LayerwiseGradients}). */
    public boolean recomputing() {
        return recomputing;
    }

    /**
     * Starts a fine-tuning setup.
     *
     * @param model    the frozen base model
     * @param adapters the adapters to train (in place), e.g. {@link LlamaAdapters#create}
     * @param examples the training examples (e.g. {@link dev.mor4j.llama.data.TuluEncoder#encodeAll})
     */
    public static Builder builder(LlamaModel model, LlamaAdapters adapters, List<EncodedExample> examples) {
        return new Builder(model, adapters, null, examples);
    }

    /**
     * Starts a full fine-tuning setup: every base weight trained (e.g. pre-training a {@link LlamaModel#random} model).
     *
     * @param model    the base model: its config and rotary tables (its frozen weights are not trained)
     * @param weights  the weights to train in place, e.g. {@link TrainableBase#of}{@code (model.weights())}
     * @param examples the training examples
     */
    public static Builder builder(LlamaModel model, TrainableBase weights, List<EncodedExample> examples) {
        return new Builder(model, null, weights, examples);
    }

    /** Trainable and total parameters, as PEFT's {@code print_trainable_parameters()} counts them. */
    public ParameterCount parameterCount() {
        long frozen = 0;
        for (long[] shape : LlamaWeights.expectedShapes(model.config()).values()) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            frozen += n;
        }
        return full != null ? new ParameterCount(full.parameters(), full.parameters())
                : ParameterCount.of(adapters.layers().values(), frozen);
    }

    /**
     * Continues a run from a checkpoint: restores the adapter weights, the optimizer, the step, the data
     * position and the router statistics, and drops the lines of {@code metrics.jsonl} after the checkpoint's
     * step (they will be trained again).
     *
     * @param checkpointOrRun a {@code checkpoint-<step>} directory, or a run directory (its latest checkpoint)
     * @return the checkpoint resumed from
     * @throws MorException if there is no checkpoint, or it belongs to other adapters, data, batching or (MoRE) tasks
     */
    public Path resume(Path checkpointOrRun) {
        Path checkpoint = findCheckpoint(checkpointOrRun);
        TrainerState saved = CheckpointStore.read(checkpoint).state();
        // the data first: resuming on other data is the likelier mistake, and it leaves the weights untouched
        data.restore(saved.dataPosition(), saved.globalStep(), checkpoint.resolve(CheckpointStore.STATE).toString());
        if (tasks != null) {
            tasks.requireSavedIn(checkpoint);
        }
        TrainerState state = trainer.resume(checkpoint);
        if (!routerStats.isEmpty()) {
            Path stats = checkpoint.resolve(RouterStats.FILE);
            if (!Files.isRegularFile(stats)) {
                throw new MorException(stats + ": not found; a checkpoint of a mixture adapter holds its router"
                        + " statistics");
            }
            routerStats.restore(RouterStats.read(stats), stats.toString());
        }
        if (outputDir != null) {
            MetricsFile.keepStepsUpTo(outputDir.resolve(MetricsLog.FILE), state.globalStep());
        }
        messages.accept("resuming from " + checkpoint + " at step " + state.globalStep() + " of "
                + config.maxSteps());
        return checkpoint;
    }

    private static Path findCheckpoint(Path dir) {
        if (Files.isRegularFile(dir.resolve(CheckpointStore.STATE))) {
            return dir;
        }
        if (Files.isDirectory(dir)) {
            return new CheckpointStore(dir, 0).latest().orElseThrow(() -> new MorException(dir
                    + ": no checkpoint to resume from; expected a checkpoint-<step> directory (holding "
                    + CheckpointStore.STATE + ") or a run directory that contains one"));
        }
        throw new MorException(dir + ": not found; expected a checkpoint-<step> directory or a run directory");
    }

    /** Trains until {@code max_steps} and writes the final adapter; see {@link #train(long)}. */
    public FineTuneResult train() {
        return train(config.maxSteps());
    }

    /**
     * Trains until the global step reaches {@code untilStep} (at most {@code max_steps}); with an output
     * directory, writes a checkpoint there, and when {@code max_steps} is reached the adapter and router
     * statistics into the output directory itself.
     *
     * @throws MorException if training stops on repeated non-finite losses or a file cannot be written
     */
    public FineTuneResult train(long untilStep) {
        if (!announced) {
            messages.accept(parameterCount().format());
            messages.accept(memoryPlan.format(recomputing));
            messages.accept("micro-batches: " + options.batchSize() + " examples each, " + (data.packing()
                    ? "packed into rows of at most " + data.rowLength() + " tokens"
                    : "right-padded to the longest, one example per row"));
            announced = true;
        }
        callMetrics = new ArrayList<>();
        callTokens = FineTuneResult.Tokens.NONE;
        if (outputDir != null) {
            metricsLog = MetricsLog.in(outputDir);
        }
        try {
            trainer.train(untilStep);
        } finally {
            if (metricsLog != null) {
                metricsLog.close();
                metricsLog = null;
            }
        }
        Path adapterDir = null;
        if (outputDir != null && trainer.globalStep() >= config.maxSteps() && full != null) {
            adapterDir = outputDir.resolve(FINAL_MODEL);
            FullCheckpoint.replace(adapterDir, full, model.directory(), tokenizer);
        } else if (outputDir != null && trainer.globalStep() >= config.maxSteps()) {
            writeAdapter(outputDir);
            adapterDir = outputDir;
        }
        return new FineTuneResult(trainer.globalStep(), List.copyOf(callMetrics), adapterDir, callTokens);
    }

    /**
     * Writes the adapter in PEFT's layout into {@code dir}, with the router statistics of a mixture adapter or the
     * rank selection of a MoRE adapter ({@link RankSelection}); for full fine-tuning, the model as a Hugging Face
     * checkpoint ({@link FullCheckpoint}), and {@code dir} must then hold no model yet.
     */
    public void writeAdapter(Path dir) {
        if (full != null) {
            FullCheckpoint.write(dir, full, model.directory(), tokenizer);
            return;
        }
        adapters.save(dir, baseModelName);
        if (!routerStats.isEmpty()) {
            routerStats.save(dir);
        }
        if (tasks != null) {
            RankSelection.of(adapters).save(dir);
        }
    }

    /** Forwards each step to the metrics file, the caller's listeners and this call's metrics. */
    private final class Listener implements TrainListener {
        @Override
        public void onStep(StepMetrics m) {
            callMetrics.add(m);
            if (metricsLog != null) {
                metricsLog.onStep(m);
            }
            for (TrainListener l : listeners) {
                l.onStep(m);
            }
        }

        @Override
        public void onCheckpoint(long step, Path directory) {
            for (TrainListener l : listeners) {
                l.onCheckpoint(step, directory);
            }
        }
    }

    public LlamaModel model() {
        return model;
    }

    /** The adapters being trained; null for full fine-tuning. */
    public LlamaAdapters adapters() {
        return adapters;
    }

    /** The base weights being trained by full fine-tuning; null when adapters are trained. */
    public TrainableBase fullWeights() {
        return full;
    }

    public TrainConfig config() {
        return config;
    }

    public FineTuneOptions options() {
        return options;
    }

    /** The output directory, or null. */
    public Path outputDir() {
        return outputDir;
    }

    /**
     * The training graph (one for the whole run).
     *
     * @throws IllegalStateException when the run recomputes layer by layer: it then has one graph per layer
     */
    public LlamaGraph graph() {
        return gradients.graph();
    }

    /** The backend computing the steps; null when they run in this process. */
    public StepBackend backend() {
        return backend;
    }

    public TrainingData data() {
        return data;
    }

    /** The tasks of a MoRE adapter; null for other adapters. */
    public TaskIndex tasks() {
        return tasks;
    }

    /** Mean router weights per dataset so far; empty for adapters without a router. */
    public RouterStats routerStats() {
        return routerStats;
    }

    public Trainer trainer() {
        return trainer;
    }

    /** Builds a {@link LlamaFineTune}. */
    public static final class Builder {
        private final LlamaModel model;
        private final LlamaAdapters adapters;
        private final TrainableBase full;
        private final List<EncodedExample> examples;
        private Path tokenizer;
        private TrainConfig config;
        private FineTuneOptions options = FineTuneOptions.defaults();
        private Path outputDir;
        private String baseModelName;
        private Consumer<String> messages = System.err::println;
        private final List<TrainListener> listeners = new ArrayList<>();
        private Recompute recompute = Recompute.AUTO;
        private boolean packing = true;
        private StepBackend backend;
        private MorForm morForm;

        private Builder(LlamaModel model, LlamaAdapters adapters, TrainableBase full, List<EncodedExample> examples) {
            this.model = model;
            this.adapters = adapters;
            this.full = full;
            this.examples = examples;
        }

        /**
         * Full fine-tuning: the {@code tokenizer.json} (or its directory) copied into the models written when the base
         * model's directory has none, so that they can be used on their own.
         */
        public Builder tokenizer(Path tokenizer) {
            this.tokenizer = tokenizer;
            return this;
        }

        /** The optimizer, schedule, steps, seed and checkpointing (required). */
        public Builder trainConfig(TrainConfig config) {
            this.config = config;
            return this;
        }

        /** Batching and loss reduction (default {@link FineTuneOptions#defaults()}). */
        public Builder options(FineTuneOptions options) {
            this.options = options;
            return this;
        }

        /** Where checkpoints, {@code metrics.jsonl} and the final adapter go; without one nothing is written. */
        public Builder outputDir(Path dir) {
            this.outputDir = dir;
            return this;
        }

        /** {@code base_model_name_or_path} of the saved adapter (default: the model directory). */
        public Builder baseModelName(String name) {
            this.baseModelName = name;
            return this;
        }

        /** Receives informational lines such as the trainable parameter count (default: standard error). */
        public Builder messages(Consumer<String> messages) {
            this.messages = messages;
            return this;
        }

        /**
         * Whether to recompute each layer's activations in the backward pass ({@link Recompute#AUTO}: only when the
         * run would not fit in memory otherwise).
         */
        public Builder recompute(Recompute recompute) {
            this.recompute = recompute;
            return this;
        }

        /**
         * Whether to pack each micro-batch's examples into rows of at most the longest example's length
         * ({@link PackingCollator}, the default) instead of right-padding one example per row ({@link BatchCollator}).
         * The same examples form each micro-batch either way, with the same loss and gradients (to float rounding);
         * packing computes fewer padding positions. Adapter dropout masks are drawn per position of the layout, so
         * with dropout the two layouts draw different masks.
         */
        public Builder packing(boolean packing) {
            this.packing = packing;
            return this;
        }

        /**
         * Computes the steps' micro-batches with {@code backend} (e.g. on a Spark cluster) instead of in this
         * process; the results are the same bits.
         */
        public Builder backend(StepBackend backend) {
            this.backend = backend;
            return this;
        }

        /**
         * How MoR adapters compute their sum over experts (default: the adapters' own form, {@link MorForm#EXPANDED}
         * unless {@link LlamaAdapters#withMorForm} chose another). The forms differ in time and memory, not in the
         * weights a run trains (they agree to float rounding). {@link LlamaFineTune#adapters()} then returns the
         * adapters in this form; they share the weight arrays of the adapters given to {@link LlamaFineTune#builder}.
         */
        public Builder morForm(MorForm form) {
            if (form == null) {
                throw new IllegalArgumentException("morForm is null; expected one of EXPANDED, STACKED, LOOP");
            }
            this.morForm = form;
            return this;
        }

        /** Told about every step and checkpoint. */
        public Builder listener(TrainListener listener) {
            listeners.add(listener);
            return this;
        }

        /**
         * Builds the training graph.
         *
         * @throws MorException if there are no examples or no training config
         */
        public LlamaFineTune build() {
            return new LlamaFineTune(this);
        }
    }
}
