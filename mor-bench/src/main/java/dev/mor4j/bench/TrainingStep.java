package dev.mor4j.bench;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.nn.SessionMemory;
import dev.mor4j.core.train.GradientSource;
import dev.mor4j.core.train.LrSchedulerType;
import dev.mor4j.core.train.SameDiffGradients;
import dev.mor4j.core.train.StepResult;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.core.train.Trainer;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One adapter fine-tuning setup on a LLaMA model: the training graph with its loss, a fixed random batch of
 * one sequence (every token labelled, or all after an unlabelled prompt), and a {@link Trainer} (AdamW, gradient clipping at 1.0, constant learning rate) over the
 * adapter weights. {@link #forward()} computes the loss alone; {@link #step()} runs one optimizer step:
 * forward, backward to every adapter weight, clipping and the AdamW update.
 *
 * <p>With {@code sameDiffDefaults} the same graph runs as SameDiff M2.1 runs it by itself, for comparison:
 * its own per-thread sessions (no {@code SessionMemory}) and gradients from {@code calculateGradients},
 * which switches the gradient function's array cache off.
 */
public final class TrainingStep {

    private final LlamaGraph graph;
    private final Map<String, INDArray> feeds;
    private final Trainer trainer;
    private final GradientSource source;
    private final int tokens;
    private final long trainableParameters;
    private final boolean sameDiffDefaults;

    /**
     * @param adapter the adapters' config; they go on the projections its target modules name
     * @param seqLen  T, tokens of the single sequence
     */
    public TrainingStep(LlamaWeights weights, AdapterConfig adapter, int seqLen, long seed) {
        this(weights, adapter, seqLen, seed, false);
    }

    /**
     * @param sameDiffDefaults run forward and backward through SameDiff's own sessions and
     *                         {@code calculateGradients} instead of the library's path
     */
    public TrainingStep(LlamaWeights weights, AdapterConfig adapter, int seqLen, long seed, boolean sameDiffDefaults) {
        this(weights, adapter, seqLen, 0, seed, sameDiffDefaults);
    }

    /**
     * @param promptTokens how many of the sequence's first tokens are an unlabelled prompt (label -100), as in
     *                     chat data where only the answer is trained on: the loss then covers the
     *                     {@code seqLen − promptTokens} positions whose next token is labelled (0: all but the last)
     * @param sameDiffDefaults run forward and backward through SameDiff's own sessions and
     *                         {@code calculateGradients} instead of the library's path
     */
    public TrainingStep(LlamaWeights weights, AdapterConfig adapter, int seqLen, int promptTokens, long seed,
            boolean sameDiffDefaults) {
        if (promptTokens < 0 || promptTokens >= seqLen) {
            throw new IllegalArgumentException("the prompt must leave a labelled token: 0 ≤ prompt tokens < " + seqLen
                    + ", got " + promptTokens);
        }
        LlamaAdapters adapters = LlamaAdapters.create(weights, adapter, seed);
        // B starts at zero; give it small values so the adapters change the output from the first step on
        adapters.weights().replaceAll((k, v) -> v.sumNumber().doubleValue() == 0
                ? Nd4j.randn(v.dataType(), v.shape()).muli(1e-3) : v);
        this.graph = adapters.graph(weights, GraphKind.TRAINING);
        this.trainableParameters = adapters.trainableParameters();
        this.sameDiffDefaults = sameDiffDefaults;
        Random rng = new Random(seed);
        long[][] ids = new long[1][seqLen];
        for (int t = 0; t < seqLen; t++) {
            ids[0][t] = rng.nextInt(weights.config().vocabSize());
        }
        long[][] labels = {ids[0].clone()}; // [1][T]
        Arrays.fill(labels[0], 0, promptTokens, Batch.IGNORE_INDEX);
        Batch batch = new Batch(ids, null, labels);
        this.feeds = graph.feeds(batch, LlamaFeeds.Reduction.MEAN);
        this.tokens = seqLen;
        List<String> trainables = new ArrayList<>(adapters.weights().keySet());
        SameDiffGradients library = graph.gradientSource(trainables,
                (step, micro) -> new SameDiffGradients.Batch(feeds, seqLen));
        if (sameDiffDefaults) {
            graph.sd().getSessions().clear(); // SameDiff creates its default session on the next call
            this.source = (step, micro) -> {
                OutAndGrad r = graph.sd().calculateGradientsAndOutputs(feeds, List.of(LlamaGraph.TOTAL_LOSS), trainables);
                return new StepResult(r.getOutputs().get(LlamaGraph.TOTAL_LOSS).getDouble(0), seqLen, r.getGradients());
            };
        } else {
            this.source = library;
        }
        TrainConfig config = TrainConfig.builder().learningRate(1e-4).lrScheduler(LrSchedulerType.CONSTANT)
                .warmupRatio(0).maxSteps(Long.MAX_VALUE / 2).saveSteps(0).build();
        this.trainer = new Trainer(config, library.trainableArrays(), source);
    }

    public LlamaGraph graph() {
        return graph;
    }

    /** Tokens per step. */
    public int tokens() {
        return tokens;
    }

    public long trainableParameters() {
        return trainableParameters;
    }

    /** The placeholder values of the batch. */
    public Map<String, INDArray> feeds() {
        return feeds;
    }

    /** @return the loss of the batch, computed without gradients */
    public double forward() {
        Map<String, INDArray> out = sameDiffDefaults ? graph.sd().output(feeds, LlamaGraph.LOSS)
                : SessionMemory.output(graph.sd(), feeds, LlamaGraph.LOSS);
        return out.get(LlamaGraph.LOSS).getDouble(0);
    }

    /** Forward and backward alone (the loss and every adapter gradient), without the optimizer. */
    public void gradients() {
        source.compute(0, 0);
    }

    /** Runs one optimizer step. */
    public void step() {
        trainer.train(trainer.globalStep() + 1);
    }

    /** The trainer (its parameters are the live adapter arrays). */
    public Trainer trainer() {
        return trainer;
    }
}
