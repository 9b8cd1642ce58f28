package dev.mor4j.bench;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.train.GradientSource;
import dev.mor4j.core.train.LrSchedulerType;
import dev.mor4j.core.train.SameDiffGradients;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.core.train.Trainer;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import dev.mor4j.llama.train.LayerwiseGradients;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One adapter fine-tuning setup that steps on whatever {@link Batch} it is given, the way {@code LlamaFineTune}
 * steps on its micro-batches: one training graph reused for every batch shape (or, recomputing, one graph per
 * decoder layer, {@link LayerwiseGradients}), the loss's mean over the batch's labels, and a {@link Trainer}
 * (AdamW, clipping at 1.0, constant learning rate) over the adapter weights. Unlike {@link TrainingStep}, whose
 * batch is one fixed sequence, the batches here differ in rows, length and padding from step to step.
 */
final class BatchedTrainingStep {

    private final Trainer trainer;
    private final LlamaGraph feedsGraph;
    private final long trainableParameters;
    private Batch current;
    private boolean labelOnlyHead;

    /**
     * @param adapter   the adapters' config (dropout 0: no masks are fed)
     * @param recompute compute gradients layer by layer with recomputation instead of through one graph
     */
    BatchedTrainingStep(LlamaWeights weights, AdapterConfig adapter, boolean recompute, long seed) {
        LlamaAdapters adapters = LlamaAdapters.create(weights, adapter, seed);
        // B starts at zero; give it small values so the adapters change the output from the first step on
        adapters.weights().replaceAll((k, v) -> v.sumNumber().doubleValue() == 0
                ? Nd4j.randn(v.dataType(), v.shape()).muli(1e-3) : v);
        this.trainableParameters = adapters.trainableParameters();
        SameDiffGradients.BatchSupplier batches = (step, micro) -> new SameDiffGradients.Batch(feeds(current),
                current.tokenCount());
        GradientSource source;
        Map<String, INDArray> arrays;
        if (recompute) {
            LayerwiseGradients layerwise = new LayerwiseGradients(weights, adapters, seed, batches);
            this.feedsGraph = layerwise.segments().get(0);
            source = layerwise;
            arrays = layerwise.trainableArrays();
        } else {
            LlamaGraph graph = adapters.graph(weights, GraphKind.TRAINING);
            this.feedsGraph = graph;
            List<String> trainables = new ArrayList<>(adapters.weights().keySet());
            SameDiffGradients whole = graph.gradientSource(trainables, batches);
            source = whole;
            arrays = whole.trainableArrays();
        }
        TrainConfig config = TrainConfig.builder().learningRate(1e-4).lrScheduler(LrSchedulerType.CONSTANT)
                .warmupRatio(0).maxSteps(Long.MAX_VALUE / 2).saveSteps(0).build();
        this.trainer = new Trainer(config, arrays, source);
    }

    private LlamaGraph feedsGraph() {
        return feedsGraph;
    }

    /** The batch's placeholders, the loss's head at the labelled rows only or at every row. */
    private Map<String, INDArray> feeds(Batch batch) {
        Map<String, INDArray> f = feedsGraph().feeds(batch, LlamaFeeds.Reduction.MEAN);
        return labelOnlyHead ? f : LlamaFeeds.withHeadAtEveryPosition(f);
    }

    /**
     * One optimizer step on {@code batch} (it needs labels).
     *
     * @param labelOnlyHead run the loss's LM head on the labelled positions only, as training does; else on every
     *                      position, as before (and as transformers computes the logits): the same loss and gradients
     */
    void step(Batch batch, boolean labelOnlyHead) {
        current = batch;
        this.labelOnlyHead = labelOnlyHead;
        trainer.train(trainer.globalStep() + 1);
    }

    long trainableParameters() {
        return trainableParameters;
    }

    /** The trainer (its parameters are the live adapter arrays). */
    Trainer trainer() {
        return trainer;
    }
}
