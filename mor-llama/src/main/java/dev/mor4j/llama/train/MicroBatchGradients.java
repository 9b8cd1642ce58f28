package dev.mor4j.llama.train;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterContext;
import dev.mor4j.core.adapter.AdapterMethod;
import dev.mor4j.core.train.DropoutMasks;
import dev.mor4j.core.train.GradientSource;
import dev.mor4j.core.train.SameDiffGradients;
import dev.mor4j.core.train.StepResult;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import dev.mor4j.llama.model.TrainableBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The loss and adapter gradients of one training micro-batch of a LLaMA model with adapters: what every process
 * that trains runs, the single process of {@link LlamaFineTune} as well as each worker of a cluster.
 *
 * <p>It holds the training graph, whole ({@link LlamaAdapters#graph}, with the loss) or one per decoder layer with
 * recomputation ({@link LayerwiseGradients}), and turns a {@link MicroBatch} into the graph's feeds: the batch's
 * placeholders ({@link LlamaGraph#feeds}), each example's task id for a MoRE adapter ({@link TaskIndex}), and the
 * adapter dropout masks drawn from {@code (seed, step, micro-batch)} ({@link DropoutMasks}), so a micro-batch's
 * gradient depends on nothing but the adapter weights, the micro-batch and where it stands in the run. For adapters
 * with a router it also counts the micro-batch's router weights per source dataset ({@link RouterStats.Counts}).
 *
 * <p>For full fine-tuning
 * ({@link #MicroBatchGradients(LlamaWeights, TrainableBase, long, LlamaFeeds.Reduction, boolean)}) the graph is
 * {@link LlamaGraph#fullTraining}, or one {@link LlamaGraph#fullSegment} per layer with recomputation, whose
 * trainables are every base weight; it has no adapters, routers or dropout.
 *
 * <p>The graph reads the adapter weights' own arrays ({@link #trainableArrays()}): change them only in place. Not
 * thread-safe: one thread computes at a time.
 */
public final class MicroBatchGradients {

    /**
     * One micro-batch's pass.
     *
     * @param result the loss, token count and gradients; the gradient arrays are valid until the next pass
     * @param router the router weights counted per dataset; null for adapters without a router
     */
    public record Result(StepResult result, RouterStats.Counts router) {
    }

    private final long seed;
    private final LlamaFeeds.Reduction reduction;
    private final TaskIndex tasks; // null unless the adapter is MoRE
    private final LlamaGraph graph; // the whole training graph; null when recomputing layer by layer
    private final LlamaGraph feedsGraph; // the graph whose feeds() builds the placeholders
    private final GradientSource gradients;
    private final Map<String, INDArray> arrays; // trainable name → the array the graph reads
    private final List<String> routerVariables; // [B·T, N] router weights of every module, in model order
    private final RouterStats routerCounter; // modules and experts of the counts
    private MicroBatch current;
    private RouterStats.Counts counted;

    /**
     * Builds the training graph.
     *
     * @param seed      the run's seed, from which the dropout masks are drawn
     * @param reduction how each micro-batch's loss reduces over its tokens
     * @param recompute compute layer by layer, recomputing activations in the backward pass (same gradients)
     * @throws MorException if recomputation finds a decoder layer without adapters
     */
    public MicroBatchGradients(LlamaWeights model, LlamaAdapters adapters, long seed, LlamaFeeds.Reduction reduction,
            boolean recompute) {
        this.seed = seed;
        this.reduction = reduction;
        AdapterMethod method = adapters.config().method();
        this.tasks = method == AdapterMethod.MORE ? TaskIndex.of(adapters.config().taskNames()) : null;
        boolean mixture = method == AdapterMethod.MOR || method == AdapterMethod.MOELORA;
        List<String> routerPrefixes;
        if (recompute) {
            this.graph = null;
            LayerwiseGradients layerwise = new LayerwiseGradients(model, adapters, seed, this::feeds);
            this.routerVariables = layerwise.routerOutputs();
            routerPrefixes = layerwise.routerPrefixes();
            if (!routerVariables.isEmpty()) {
                layerwise.withRouterOutputs(this::countRouterWeights);
            }
            this.arrays = layerwise.trainableArrays();
            this.gradients = layerwise;
            this.feedsGraph = layerwise.segments().get(0);
        } else {
            this.graph = adapters.graph(model, GraphKind.TRAINING);
            AdapterContext ctx = graph.adapterContext();
            this.routerVariables = new ArrayList<>(ctx.routerOutputs().values());
            routerPrefixes = new ArrayList<>(ctx.routerOutputs().keySet());
            SameDiffGradients whole = graph.gradientSource(new ArrayList<>(adapters.weights().keySet()),
                    this::feedsWithDropout);
            if (!routerVariables.isEmpty()) {
                whole.withOutputs(routerVariables, this::countRouterWeights);
            }
            this.arrays = whole.trainableArrays();
            this.gradients = whole;
            this.feedsGraph = graph;
        }
        this.routerCounter = new RouterStats(routerPrefixes, mixture ? adapters.config().experts() : 0);
        requireHeld(adapters.weights());
    }

    /**
     * Builds the training graph of full fine-tuning: every base weight of {@code base} trainable.
     *
     * @param model     the model's config and rotary tables ({@link LlamaGraph#fullTraining})
     * @param seed      the run's seed (the graph draws no dropout masks; kept for the same feeds as adapters)
     * @param recompute compute layer by layer, recomputing activations in the backward pass (same gradients)
     */
    public MicroBatchGradients(LlamaWeights model, TrainableBase base, long seed, LlamaFeeds.Reduction reduction,
            boolean recompute) {
        this.seed = seed;
        this.reduction = reduction;
        this.tasks = null;
        this.routerVariables = List.of();
        if (recompute) {
            this.graph = null;
            LayerwiseGradients layerwise = new LayerwiseGradients(model, base, seed, this::feeds);
            this.arrays = layerwise.trainableArrays();
            this.gradients = layerwise;
            this.feedsGraph = layerwise.segments().get(0);
        } else {
            this.graph = base.graph(model);
            SameDiffGradients whole = new SameDiffGradients(graph.sd(), LlamaGraph.TOTAL_LOSS,
                    new ArrayList<>(base.weights().keySet()), this::feedsWithDropout);
            this.arrays = whole.trainableArrays();
            this.gradients = whole;
            this.feedsGraph = graph;
        }
        this.routerCounter = new RouterStats(List.of(), 0);
        requireHeld(base.weights());
    }

    /** Checks that the graph reads {@code weights}' own arrays, which the optimizer updates in place. */
    private void requireHeld(Map<String, INDArray> weights) {
        for (String k : weights.keySet()) {
            if (arrays.get(k) != weights.get(k)) {
                throw new IllegalStateException("the graph holds a copy of trainable weight '" + k
                        + "'; training would not update the trainable arrays");
            }
        }
    }

    /**
     * Runs micro-batch {@code microBatch} of optimizer step {@code step}, whose examples are {@code m}.
     *
     * @throws MorException if an example's dataset is not one of a MoRE adapter's tasks, or the batch does not fit
     *                      the graph
     */
    public Result compute(long step, int microBatch, MicroBatch m) {
        current = m;
        counted = null;
        try {
            StepResult r = gradients.compute(step, microBatch);
            return new Result(r, counted);
        } finally {
            current = null;
        }
    }

    /** The placeholders of the current micro-batch, without dropout masks (the layer-by-layer path draws them). */
    private SameDiffGradients.Batch feeds(long step, int microBatch) {
        Batch batch = tasks == null ? current.batch() : current.batch().withTaskIds(tasks.idsOf(current.examples()));
        Map<String, INDArray> feeds = feedsGraph.feeds(batch, reduction);
        return new SameDiffGradients.Batch(feeds, batch.tokenCount());
    }

    /** The placeholders of the current micro-batch with the whole graph's dropout masks. */
    private SameDiffGradients.Batch feedsWithDropout(long step, int microBatch) {
        SameDiffGradients.Batch b = feeds(step, microBatch);
        long rows = (long) current.batch().batchSize() * current.batch().seqLen();
        AdapterContext ctx = graph.adapterContext();
        b.placeholders().putAll(DropoutMasks.fill(ctx.dropoutMasks(), ctx.dropoutRates(), rows, seed, step,
                microBatch));
        return b;
    }

    private void countRouterWeights(long step, int microBatch, Map<String, INDArray> values) {
        List<INDArray> weights = new ArrayList<>();
        for (String v : routerVariables) {
            weights.add(values.get(v)); // [B·T, N]
        }
        List<String> exampleDatasets = current.examples().stream().map(EncodedExample::dataset).toList();
        counted = routerCounter.count(weights, current.batch(), exampleDatasets);
    }

    /** The trainable arrays by adapter key, in the adapters' order: the arrays the graph reads. */
    public Map<String, INDArray> trainableArrays() {
        return arrays;
    }

    /** The modules whose router weights are counted, in model order; empty for adapters without a router. */
    public List<String> routerPrefixes() {
        return routerCounter.modules();
    }

    /** N, the experts of each router; 0 for adapters without a router. */
    public int routerExperts() {
        return routerCounter.experts();
    }

    /** The tasks of a MoRE adapter; null for other adapters. */
    public TaskIndex tasks() {
        return tasks;
    }

    /** Whether the gradients are computed layer by layer with recomputation. */
    public boolean recomputing() {
        return graph == null;
    }

    /**
     * The whole training graph.
     *
     * @throws IllegalStateException when computing layer by layer: there is one graph per decoder layer
     */
    public LlamaGraph graph() {
        if (graph == null) {
            throw new IllegalStateException("this run recomputes activations layer by layer: it has one graph per"
                    + " decoder layer, not one training graph");
        }
        return graph;
    }
}
