package dev.mor4j.paper;

import dev.mor4j.core.MorException;
import dev.mor4j.core.train.LrSchedulerType;
import dev.mor4j.core.train.StepMetrics;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.core.train.TrainListener;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.eval.HeldOutLoss;
import dev.mor4j.llama.eval.RouterProbe;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.LlamaWeights;
import dev.mor4j.llama.model.TrainableBase;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.FineTuneOptions;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.RankSelection;
import dev.mor4j.llama.train.Recompute;
import dev.mor4j.llama.train.TaskIndex;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Runs one {@link RunSpec} in this process with the library's Java API: builds the method's adapter
 * ({@link LlamaAdapters#create}, seeded) or trainable base weights, fine-tunes with {@link LlamaFineTune} (AdamW,
 * linear schedule with {@value ExperimentSettings#WARMUP_RATIO} warm-up, clipping at
 * {@value ExperimentSettings#MAX_GRAD_NORM}, packed micro-batches, mean loss over answer tokens; nothing written to
 * disk), then evaluates: a search run by its validation loss ({@link HeldOutLoss}), a final run on the test files
 * ({@link TaskEvaluation}), with the router weights per task on the test prompts before and after training
 * ({@link RouterProbe}, MoR and MoE-LoRA) and the ranks each task chose ({@link RankSelection}, MoRE).
 */
final class MethodRun {

    private final LlamaModel model;
    private final Tokenizer tok;
    private final BenchmarkData data;
    private final ExperimentSettings settings;

    MethodRun(LlamaModel model, Tokenizer tok, BenchmarkData data, ExperimentSettings settings) {
        this.model = model;
        this.tok = tok;
        this.data = data;
        this.settings = settings;
    }

    /** Trains and evaluates the run; nothing is saved. */
    RunResult run(RunSpec spec) {
        return run(spec, spec.phase() == RunSpec.Phase.SEARCH ? data.split().train() : data.train(),
                settings.steps(), data);
    }

    /**
     * Trains on {@code examples} for {@code steps} steps and evaluates on {@code test} (the timing probe's short
     * runs use fewer steps and test items).
     */
    RunResult run(RunSpec spec, List<EncodedExample> examples, long steps, BenchmarkData test) {
        PaperMethod m = spec.method();
        long start = System.nanoTime();
        List<String> taskNames = data.sortedTasks();
        TaskIndex tasks = m.usesTasks() ? TaskIndex.of(taskNames) : null;
        LlamaAdapters adapters = m.isFull() ? null
                : LlamaAdapters.create(model.weights(), m.adapterConfig(taskNames), spec.seed());
        boolean evaluate = spec.phase() == RunSpec.Phase.FINAL;
        Stopwatch setup = new Stopwatch(); // evaluation: building graphs
        Stopwatch items = new Stopwatch(); // evaluation: the items and prompts themselves
        RouterProbe.TaskWeights atInit = null;
        if (evaluate && m.hasRouter()) {
            LlamaGraph before = setup.time(() -> adapters.graph(model.weights(), GraphKind.INFERENCE));
            atInit = items.time(() -> routerWeights(before, test));
        }
        TrainableBase full = m.isFull() ? TrainableBase.of(model.weights()) : null;
        LlamaFineTune.Builder builder = m.isFull() ? LlamaFineTune.builder(model, full, examples)
                : LlamaFineTune.builder(model, adapters, examples);
        Losses losses = new Losses();
        LlamaFineTune ft = builder.trainConfig(trainConfig(spec, steps))
                .options(new FineTuneOptions(settings.batch(), false, LlamaFeeds.Reduction.MEAN)).packing(true)
                .recompute(Recompute.AUTO).messages(line -> {
                }).listener(losses).build();
        boolean diverged = false;
        try {
            ft.train();
        } catch (MorException e) {
            if (!losses.lastSkipped()) {
                throw e;
            }
            diverged = true; // repeated non-finite losses: the weights are those of the last finite update
        }
        double trainSeconds = (System.nanoTime() - start) / 1e9 - setup.seconds() - items.seconds();
        LlamaWeights weights = m.isFull() ? setup.time(() -> full.frozen(DataType.FLOAT)) : model.weights();
        Double validationLoss = null;
        TaskEvaluation.Scores scores = null;
        RouterProbe.TaskWeights router = null;
        RankSelection ranks = null;
        if (!evaluate && !diverged) {
            LlamaGraph lossGraph = setup.time(() -> adapters == null ? LlamaGraph.base(weights, GraphKind.LOSS)
                    : adapters.graph(weights, GraphKind.LOSS));
            validationLoss = items.time(() -> HeldOutLoss.of(lossGraph, data.split().validation(), settings.batch(),
                    tasks));
        } else if (evaluate) {
            LlamaGraph inference = setup.time(() -> adapters == null ? LlamaGraph.base(weights, GraphKind.INFERENCE)
                    : adapters.graph(weights, GraphKind.INFERENCE));
            TaskEvaluation evaluation = setup.time(() -> new TaskEvaluation(weights, adapters, inference, tok, tasks,
                    settings.batch(), settings.maxNewTokens()));
            scores = items.time(() -> evaluation.run(test));
            if (m.hasRouter()) {
                router = items.time(() -> routerWeights(inference, test));
            }
            if (m.usesTasks()) {
                ranks = RankSelection.of(adapters);
            }
        }
        return new RunResult(m.cliName(), spec.phase().dirName(), spec.lr(), spec.seed(), steps, examples.size(),
                ft.parameterCount().trainable(), trainSeconds, losses.secondsPerStep(), setup.seconds(),
                items.seconds(), losses.values(), diverged, validationLoss,
                scores == null ? null : scores.accuracy(), scores == null ? null : scores.exactMatch(), router, atInit,
                ranks);
    }

    /** Adds up the wall-clock of the calls it times. */
    private static final class Stopwatch {
        private long nanos;

        <T> T time(java.util.function.Supplier<T> call) {
            long t = System.nanoTime();
            try {
                return call.get();
            } finally {
                nanos += System.nanoTime() - t;
            }
        }

        double seconds() {
            return nanos / 1e9;
        }
    }

    /** The router weights per task on the test prompts. */
    private RouterProbe.TaskWeights routerWeights(LlamaGraph inference, BenchmarkData test) {
        return RouterProbe.measure(inference, test.promptIds(), test.promptTask(), settings.batch());
    }

    private TrainConfig trainConfig(RunSpec spec, long steps) {
        return TrainConfig.builder().learningRate(spec.lr()).weightDecay(0).warmupRatio(ExperimentSettings.WARMUP_RATIO)
                .lrScheduler(LrSchedulerType.LINEAR).maxSteps(steps).gradientAccumulationSteps(1)
                .maxGradNorm(ExperimentSettings.MAX_GRAD_NORM).seed(spec.seed()).saveSteps(0).build();
    }

    /**
     * The loss of every step, in order, whether the last step was skipped as non-finite, and the mean wall-clock of
     * the steps after the first.
     */
    private static final class Losses implements TrainListener {
        private final List<Double> values = new ArrayList<>();
        private boolean lastSkipped;
        private double firstElapsed = Double.NaN;
        private double lastElapsed = Double.NaN;

        @Override
        public void onStep(StepMetrics m) {
            values.add(m.skipped() ? Double.NaN : m.loss());
            lastSkipped = m.skipped();
            if (values.size() == 1) {
                firstElapsed = m.elapsedSeconds();
            }
            lastElapsed = m.elapsedSeconds();
        }

        boolean lastSkipped() {
            return lastSkipped;
        }

        double secondsPerStep() {
            return values.size() < 2 ? Double.NaN : (lastElapsed - firstElapsed) / (values.size() - 1);
        }

        double[] values() {
            return values.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }
}
