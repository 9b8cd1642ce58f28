package dev.mor4j.llama.train;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterContext;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.core.nn.GradFunctions;
import dev.mor4j.core.nn.SessionMemory;
import dev.mor4j.core.train.DropoutMasks;
import dev.mor4j.core.train.GradientFunction;
import dev.mor4j.core.train.GradientSource;
import dev.mor4j.core.train.SameDiffGradients;
import dev.mor4j.core.train.StepResult;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import dev.mor4j.llama.model.SegmentEnd;
import dev.mor4j.llama.model.TrainableBase;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The loss and adapter gradients of a micro-batch computed one decoder layer at a time, with each layer's
 * activations recomputed in the backward pass (activation checkpointing): only the hidden states entering each
 * layer, {@code L × [B·T, H]}, are kept between the passes, instead of every activation of every layer.
 *
 * <p>Each layer {@code l} is its own graph ({@link LlamaGraph#segment}): layer 0 begins with the embedding, the
 * last layer ends with the final norm ({@link SegmentEnd#FINAL_NORM}). With {@code x_0} the embeddings,
 * {@code x_{l+1} = f_l(x_l)} and {@code x_L} the normed output of the last layer:
 * <ol>
 *   <li>forward, no gradients: {@code x_1 … x_L} from segments {@code 0 … L-1}, each output kept;</li>
 *   <li>the loss and {@code g_L = ∂loss/∂x_L} from the frozen LM head, outside the graphs, one vocabulary block at a
 *       time ({@link BlockwiseHeadLoss}), so that the head's {@code [labelled, V]} arrays are never whole and never
 *       live beside a layer's activations;</li>
 *   <li>backward, from the last layer down: segment {@code l} recomputes {@code f_l(x_l)} and differentiates
 *       {@code total_l = Σ f_l(x_l) ⊙ g_{l+1} + aux_l}, which gives its adapters' gradients and
 *       {@code g_l = ∂loss/∂x_l} (chain rule), passed to layer {@code l-1}.</li>
 * </ol>
 * The gradients are those of the whole graph ({@link SameDiffGradients} over {@link LlamaAdapters#graph}); the
 * cost is one more forward pass of every layer (of every layer but the last for full fine-tuning, whose last
 * segment ends in the loss, as its head trains). With 16-bit resident weights
 * ({@link dev.mor4j.core.nn.FrozenLinear#resident}) only one layer's weights are ever widened to float32 at a time.
 * All segments share one array cache ({@link SessionMemory#shareCache}), so the memory of one layer's
 * activations is reused by the next.
 *
 * <p>Dropout masks are drawn per segment from {@code (seed, step, micro-batch, name)} ({@link DropoutMasks}),
 * the same masks the whole graph would get, and twice per step (forward and recomputation) rather than held.
 * Every decoder layer must hold at least one adapter: SameDiff M2.1 differentiates a placeholder (the layer's
 * input) only in a graph with a trainable variable.
 */
public final class LayerwiseGradients implements GradientSource {

    /** The gradient function's name in SameDiff. */
    private static final String GRAD_FN = "grad";

    private final List<LlamaGraph> segments; // one per decoder layer, in model order
    private final List<List<String>> trainables; // per segment: the adapter weights its graph holds
    private final List<String> routerOutputs; // router weight variables of every segment, in model order
    private final Map<String, INDArray> arrays; // trainable name → the array every graph reads
    private final SameDiffGradients.BatchSupplier batches;
    private final long seed;
    /**
     * The frozen LM head, computed outside the graphs one vocabulary block at a time ({@link BlockwiseHeadLoss});
     * null when the last segment ends in the loss itself (full fine-tuning, whose head trains).
     */
    private final BlockwiseHeadLoss head;
    private SameDiffGradients.OutputListener outputListener;

    /**
     * Builds one training segment per decoder layer.
     *
     * @param batches the micro-batches: the feeds of {@link LlamaGraph#feeds} with labels, without dropout masks
     * @param seed    the run's seed, from which the dropout masks are drawn
     * @throws MorException if a decoder layer holds no adapter
     */
    public LayerwiseGradients(LlamaWeights weights, LlamaAdapters adapters, long seed,
            SameDiffGradients.BatchSupplier batches) {
        this(weights.config().numHiddenLayers(),
                l -> LlamaGraph.segment(weights, adapters.layers(), adapters.weights(), l, l + 1, GraphKind.TRAINING,
                        SegmentEnd.FINAL_NORM),
                adapters.weights().keySet(), weights.linear("lm_head"), seed, batches);
    }

    /**
     * Builds one full fine-tuning segment per decoder layer ({@link LlamaGraph#fullSegment}): every base weight
     * trainable. A tied LM head is used by the first segment (the embedding) and the last (the head); its gradient
     * is the sum of both.
     */
    public LayerwiseGradients(LlamaWeights weights, TrainableBase base, long seed,
            SameDiffGradients.BatchSupplier batches) {
        this(weights.config().numHiddenLayers(), l -> LlamaGraph.fullSegment(weights, base.weights(), l, l + 1),
                base.weights().keySet(), null, seed, batches);
    }

    private LayerwiseGradients(int layers, IntFunction<LlamaGraph> segmentOf, Set<String> trainableKeys,
            FrozenLinear head, long seed, SameDiffGradients.BatchSupplier batches) {
        this.head = head == null ? null : new BlockwiseHeadLoss(head);
        this.segments = new ArrayList<>(layers);
        this.trainables = new ArrayList<>(layers);
        this.routerOutputs = new ArrayList<>();
        this.batches = batches;
        this.seed = seed;
        SameDiff owner = null;
        for (int l = 0; l < layers; l++) {
            LlamaGraph seg = segmentOf.apply(l);
            SameDiff sd = seg.sd();
            List<String> vars = new ArrayList<>();
            for (SDVariable v : sd.variables()) {
                if (v.getVariableType() == VariableType.VARIABLE) {
                    vars.add(v.name());
                }
            }
            if (vars.isEmpty()) {
                throw new MorException("layer " + l + " holds no adapter: computing gradients layer by layer (with"
                        + " recomputation) needs an adapter in every decoder layer; target modules of every layer,"
                        + " or train without recomputation (--recompute off)");
            }
            GradFunctions.create(sd, l > 0 ? new String[] {LlamaGraph.HIDDEN_IN} : new String[0]);
            owner = owner == null ? sd : owner;
            SessionMemory.shareCache(owner, sd);
            SessionMemory.shareCache(owner, sd.getFunction(GRAD_FN));
            segments.add(seg);
            trainables.add(vars);
            routerOutputs.addAll(seg.adapterContext().routerOutputs().values());
        }
        Map<String, INDArray> held = new LinkedHashMap<>();
        for (String key : trainableKeys) {
            SameDiff sd = segmentHolding(key);
            held.put(key, sd.getVariable(key).getArr());
        }
        this.arrays = Collections.unmodifiableMap(held);
    }

    private SameDiff segmentHolding(String key) {
        for (LlamaGraph seg : segments) {
            if (seg.sd().hasVariable(key)) {
                return seg.sd();
            }
        }
        throw new MorException("adapter weight '" + key + "' is used by no decoder layer");
    }

    /**
     * Also hands the router weights of every layer ({@code [B·T, N]} each, by variable name, in model order) to
     * {@code listener} after each micro-batch.
     */
    public LayerwiseGradients withRouterOutputs(SameDiffGradients.OutputListener listener) {
        this.outputListener = listener;
        return this;
    }

    /** The router weight variables of every layer, in model order. */
    public List<String> routerOutputs() {
        return Collections.unmodifiableList(routerOutputs);
    }

    /** The module prefixes of every layer's router, in model order (as {@link AdapterContext#routerOutputs()}). */
    public List<String> routerPrefixes() {
        List<String> out = new ArrayList<>();
        for (LlamaGraph seg : segments) {
            out.addAll(seg.adapterContext().routerOutputs().keySet());
        }
        return out;
    }

    /** The arrays of the trainable weights, keyed as {@link LlamaAdapters#weights()}: the ones the graphs read. */
    public Map<String, INDArray> trainableArrays() {
        return arrays;
    }

    /** The per-layer graphs, in model order. */
    public List<LlamaGraph> segments() {
        return Collections.unmodifiableList(segments);
    }

    @Override
    public StepResult compute(long step, int microBatch) {
        // What the previous micro-batch left to the garbage collector (its gradients, router weights, the optimizer's
        // temporaries) holds memory outside the heap until a collection; with a heap that hardly fills, that is rarely,
        // and a LLaMA-3-8B run grew by 0.2 GB a step. A collection per micro-batch costs milliseconds against seconds.
        Nd4j.getMemoryManager().invokeGc();
        SameDiffGradients.Batch batch = batches.batch(step, microBatch);
        Map<String, INDArray> feeds = batch.placeholders();
        long rows = feeds.get(LlamaGraph.INPUT_IDS).length();
        int layers = segments.size();
        INDArray[] inputs = new INDArray[layers + 1]; // inputs[l]: [B·T, H] entering layer l (l ≥ 1); [L]: normed
        int forwardEnd = head == null ? layers - 1 : layers; // the segments run forward before the backward pass
        for (int l = 0; l < forwardEnd; l++) {
            Map<String, INDArray> masks = masksOf(l, rows, step, microBatch);
            Map<String, INDArray> f = feedsOf(l, feeds, masks, inputs[l], null);
            inputs[l + 1] = SessionMemory.output(segments.get(l).sd(), f, LlamaGraph.HIDDEN_OUT).get(LlamaGraph.HIDDEN_OUT);
            close(masks);
        }
        Map<String, INDArray> gradients = new HashMap<>();
        Map<String, INDArray> routerValues = new HashMap<>();
        double loss = 0;
        INDArray upstream = null; // [B·T, H]: ∂loss/∂(output of layer l)
        if (head != null) {
            BlockwiseHeadLoss.Result r = head.compute(inputs[layers], feeds);
            inputs[layers].close();
            loss = r.loss();
            upstream = r.gradient();
        }
        for (int l = layers - 1; l >= 0; l--) {
            LlamaGraph seg = segments.get(l);
            boolean last = l == layers - 1;
            List<String> outputs = new ArrayList<>(seg.adapterContext().routerOutputs().values());
            String lossName = last && head == null ? LlamaGraph.TOTAL_LOSS : seg.sd().hasVariable(LlamaGraph.AUX_LOSS) ? LlamaGraph.AUX_LOSS : null;
            if (lossName != null) {
                outputs.add(lossName);
            }
            List<String> wanted = new ArrayList<>(trainables.get(l));
            if (l > 0) {
                wanted.add(LlamaGraph.HIDDEN_IN);
            }
            Map<String, INDArray> masks = masksOf(l, rows, step, microBatch);
            Map<String, INDArray> f = feedsOf(l, feeds, masks, inputs[l], upstream);
            OutAndGrad r = GradientFunction.run(seg.sd(), f, outputs, wanted);
            close(masks);
            if (lossName != null) {
                loss += r.getOutputs().get(lossName).getDouble(0);
            }
            for (String v : seg.adapterContext().routerOutputs().values()) {
                routerValues.put(v, r.getOutputs().get(v));
            }
            for (String v : trainables.get(l)) {
                INDArray g = r.getGradients().get(v);
                if (g == null) {
                    throw new MorException("trainable '" + v + "' has no gradient: the loss does not depend on it");
                }
                INDArray other = gradients.get(v); // a tied LM head: the head's gradient, from the last segment
                gradients.put(v, other == null ? g : other.add(g));
            }
            if (upstream != null) {
                upstream.close();
            }
            upstream = l > 0 ? r.getGradients().get(LlamaGraph.HIDDEN_IN) : null;
            if (inputs[l] != null) {
                inputs[l].close();
            }
        }
        if (outputListener != null && !routerOutputs.isEmpty()) {
            Map<String, INDArray> ordered = new LinkedHashMap<>();
            for (String v : routerOutputs) {
                ordered.put(v, routerValues.get(v));
            }
            outputListener.outputs(step, microBatch, Collections.unmodifiableMap(ordered));
        }
        return new StepResult(loss, batch.tokens(), gradients);
    }

    /**
     * Segment {@code l}'s dropout masks ({@code [B·T, d_in]} each), drawn from {@code (seed, step, micro-batch,
     * name)}: the same as the whole graph's.
     */
    private Map<String, INDArray> masksOf(int l, long rows, long step, int microBatch) {
        AdapterContext ctx = segments.get(l).adapterContext();
        SameDiff sd = segments.get(l).sd();
        Map<String, INDArray> masks = DropoutMasks.fill(ctx.dropoutMasks(), ctx.dropoutRates(), rows, seed, step,
                microBatch);
        // in the placeholders' type: fed a FLOAT mask, a DOUBLE graph's session casts it and keeps the cast in its
        // array cache, which closing the mask after the pass then breaks
        masks.replaceAll((name, m) -> {
            DataType type = sd.getVariable(name).dataType();
            if (m.dataType() == type) {
                return m;
            }
            INDArray cast = m.castTo(type);
            m.close();
            return cast;
        });
        return masks;
    }

    /**
     * Releases arrays made for one segment's pass at once: a 7B layer's masks are tens of megabytes, and left to
     * the garbage collector a step's worth (twice per layer) piles up outside the heap.
     */
    private static void close(Map<String, INDArray> arrays) {
        arrays.values().forEach(INDArray::close);
    }

    /** The placeholders segment {@code l} takes: the batch's, its dropout masks, its input and upstream gradient. */
    private Map<String, INDArray> feedsOf(int l, Map<String, INDArray> batch, Map<String, INDArray> masks,
            INDArray input, INDArray upstream) {
        SameDiff sd = segments.get(l).sd();
        Map<String, INDArray> f = new HashMap<>();
        batch.forEach((k, v) -> {
            if (sd.hasVariable(k) && sd.getVariable(k).getVariableType() == VariableType.PLACEHOLDER) {
                f.put(k, v);
            }
        });
        f.putAll(masks);
        if (input != null) {
            f.put(LlamaGraph.HIDDEN_IN, input);
        }
        if (upstream != null) {
            f.put(LlamaGraph.GRAD_OUT, upstream);
        }
        return f;
    }
}
