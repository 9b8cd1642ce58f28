package dev.mor4j.llama.model;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterContext;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.core.nn.LeanProduct;
import dev.mor4j.core.nn.StopGradient;
import dev.mor4j.core.train.GradientFunction;
import dev.mor4j.core.train.SameDiffGradients;
import dev.mor4j.llama.config.LlamaConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * LlamaForCausalLM as one SameDiff graph, with the base weights as constants and any adapters spliced
 * into named projections; or, for full fine-tuning ({@link #fullTraining}), with every base weight a trainable
 * variable under its Hugging Face key.
 *
 * <p>Tokens are flattened between attention blocks: hidden states are {@code [B·T, H]}, so every
 * projection is a 2-D product and adapters see {@code [tokens, d_in]}. Placeholders (filled by
 * {@link LlamaFeeds}):
 * <ul>
 *   <li>{@code input_ids} {@code [B, T]} INT</li>
 *   <li>{@code position_ids} INT: rotary positions, {@code [T]} shared by every row, or {@code [B·T]} one per
 *       token (a packed batch, whose positions restart at 0 with each example)</li>
 *   <li>{@code attn_bias} {@code [B, 1, T, T]} FLOAT: 0 where a query may attend a key (causal, not padding
 *       and, in a packed batch, of the same example), a large negative number elsewhere</li>
 *   <li>{@code token_mask} {@code [B·T, 1]} FLOAT: 1 for real tokens (used by router auxiliary losses)</li>
 *   <li>with adapters that adapt per example (MoRE), {@code task_ids} {@code [E]} INT and {@code token_example}
 *       {@code [B·T, E]} ({@link dev.mor4j.core.adapter.TaskInputs})</li>
 *   <li>with a loss: {@code label_rows} {@code [L]} INT (the {@code L} positions, as rows of {@code [B·T]}, whose
 *       next token is a label), {@code label_ids} {@code [L]} INT (their labels) and {@code label_weight}
 *       {@code [L]} FLOAT (1/count under the mean reduction, 1 under the sum)</li>
 * </ul>
 * Float placeholders and all arithmetic are in the weights' type ({@link LlamaWeights#dataType()}).
 * Outputs: {@code logits} {@code [B·T, V]}, {@code hidden.0} … {@code hidden.L} ({@code [B·T, H]}: the
 * embeddings, then each layer's output; the last one after the final norm, as transformers returns them),
 * and with a loss ({@link GraphKind#LOSS}, {@link GraphKind#TRAINING}) {@code loss} (scalar) plus
 * {@code total_loss} (loss plus auxiliary losses). Only {@code total_loss} has a gradient path: {@code loss} and
 * {@code logits} have none of their own (the loss's gradient with respect to the final hidden states is computed
 * in closed form and enters through {@code total_loss}). So gradients come from {@link #gradients} or
 * {@link #gradientSource}, which differentiate {@code total_loss} of a {@link GraphKind#TRAINING} graph and
 * refuse any other; to differentiate a loss of your own on {@code logits}, build
 * {@link GraphKind#TRAINING_LOGITS}. The loss runs the LM head on the {@code L} labelled positions only
 * ({@link LabelledLoss}); {@code logits} of every position are computed only when asked for.
 *
 * <p>A training graph computes attention in two causal query blocks ({@link CausalAttention#twoBlocks}), which
 * leaves out the scores that the causal mask would zero anyway; it therefore needs batches of at least two
 * positions (checked by {@link #feeds}), as every training example has (BOS and a label). A packed batch's
 * block-diagonal mask zeroes a subset of what the causal mask keeps, so the blocks leave out only zeros there too.
 *
 * <p>For generation with a key/value cache the same graph is built as one of two further kinds:
 * {@link GraphKind#PREFILL} also outputs each layer's keys and values, and {@link GraphKind#DECODE} additionally
 * takes a cache of the earlier positions' keys and values as
 * placeholders, so that only the new tokens are computed. In both modes:
 * <ul>
 *   <li>outputs {@code present.{l}.key} and {@code present.{l}.value} {@code [B, n_kv, T, hd]}: layer
 *       {@code l}'s keys (after rotary embedding) and values of the T positions the graph is given</li>
 *   <li>in {@link GraphKind#DECODE}, placeholders {@code past.{l}.key} and {@code past.{l}.value}
 *       {@code [B, n_kv, C, hd]}: a cache of capacity C, read where it lies ({@link CachedAttention}), whose
 *       first P slots hold the earlier positions; {@code position_ids} {@code [T]} holding the new tokens'
 *       positions {@code P … P+T-1}; and {@code attn_bias} {@code [B, 1, T, C+T]}, the C slots (0 for the P
 *       filled ones, masked beyond) then the T new positions (causal)</li>
 * </ul>
 * The caller writes the present keys and values into slots {@code P … P+T-1} of its cache
 * ({@link dev.mor4j.llama.generate.KvCacheForward}), so a step copies only the new positions.
 */
public final class LlamaGraph {

    public static final String INPUT_IDS = "input_ids";
    public static final String POSITION_IDS = "position_ids";
    public static final String ATTN_BIAS = "attn_bias";
    public static final String TOKEN_MASK = "token_mask";
    /** With a loss: the rows of {@code [B·T]} whose next token is a label, {@code [L]} INT. */
    public static final String LABEL_ROWS = "label_rows";
    public static final String LABEL_IDS = "label_ids";
    public static final String LABEL_WEIGHT = "label_weight";
    public static final String LOGITS = "logits";
    public static final String LOSS = "loss";
    public static final String TOTAL_LOSS = "total_loss";
    /** A {@linkplain #segment segment}'s input: the hidden states entering its first layer, {@code [B·T, H]}. */
    public static final String HIDDEN_IN = "hidden_in";
    /** A segment's output: the hidden states leaving its last layer, {@code [B·T, H]}. */
    public static final String HIDDEN_OUT = "hidden_out";
    /** A training segment's placeholder for the loss's gradient with respect to {@link #HIDDEN_OUT}. */
    public static final String GRAD_OUT = "grad_out";
    /** A training segment's auxiliary losses (router load balancing), summed; present only when it has some. */
    public static final String AUX_LOSS = "aux_loss";

    private final LlamaWeights weights;
    private final SameDiff sd;
    private final AdapterContext adapterContext;
    private final Map<String, AdapterLayer> adapters;
    private final GraphKind kind;
    /** Full fine-tuning: every base weight by Hugging Face key, a graph variable; empty when the base is frozen. */
    private final Map<String, INDArray> trainableBase;
    /** Whether this graph ends in the loss: a graph of a kind with a loss, unless a segment before the last layer. */
    private final boolean withLoss;
    /** Attention in two causal query blocks ({@link CausalAttention#twoBlocks}): training graphs. */
    private final boolean causalBlocks;
    /** The decoder layers this graph computes: {@code [firstLayer, endLayer)}; all of them unless a segment. */
    private final int firstLayer;
    private final int endLayer;
    /** Where a segment that ends at the last layer stops: the head and loss, or the final norm's output. */
    private final SegmentEnd segmentEnd;

    private LlamaGraph(LlamaWeights weights, Map<String, AdapterLayer> adapters, Map<String, INDArray> adapterWeights,
            GraphKind kind, int firstLayer, int endLayer) {
        this(weights, adapters, adapterWeights, Map.of(), kind, firstLayer, endLayer, SegmentEnd.HEAD);
    }

    private LlamaGraph(LlamaWeights weights, Map<String, AdapterLayer> adapters, Map<String, INDArray> adapterWeights,
            Map<String, INDArray> trainableBase, GraphKind kind, int firstLayer, int endLayer, SegmentEnd segmentEnd) {
        this.weights = weights;
        this.segmentEnd = segmentEnd;
        this.trainableBase = trainableBase;
        this.firstLayer = firstLayer;
        this.endLayer = endLayer;
        this.sd = SameDiff.create();
        // Hold the given arrays themselves: SameDiff's default holders copy every constant and variable, which
        // doubles the memory of the frozen weights and detaches the variables from the adapter weight map.
        sd.setArrayHolders(new SingleThreadArrayHolder(), new SingleThreadArrayHolder(), false);
        this.adapters = adapters;
        this.kind = kind;
        this.withLoss = kind.hasLoss() && endLayer == weights.config().numHiddenLayers()
                && segmentEnd == SegmentEnd.HEAD;
        this.causalBlocks = kind.training() && !kind.caches();
        this.adapterContext = new AdapterContext(sd, adapterWeights, kind.training());
        adapterContext.setAdaptedModules(Math.max(1, adapters.size()));
        define();
    }

    /**
     * Builds the graph.
     *
     * @param adapters       adapter layers by the module name they replace (e.g. {@code model.layers.0.mlp.up_proj}); may be empty
     * @param adapterWeights the adapters' weights by full PEFT key (trained in place)
     * @param kind           what the graph is for: its outputs, whether it trains, its part in key/value caching
     */
    public static LlamaGraph build(LlamaWeights weights, Map<String, AdapterLayer> adapters,
            Map<String, INDArray> adapterWeights, GraphKind kind) {
        return new LlamaGraph(weights, adapters, adapterWeights, kind, 0, weights.config().numHiddenLayers());
    }

    /**
     * A graph of decoder layers {@code [firstLayer, endLayer)} alone, for running a model layer by layer (see
     * {@link dev.mor4j.llama.train.LayerwiseGradients}). A segment that starts at layer 0 begins with the embedding
     * lookup, any other takes the hidden states as the placeholder {@link #HIDDEN_IN} {@code [B·T, H]}. A segment
     * that ends at the last layer ends as the whole graph does (final norm, {@code logits}, and for
     * {@link GraphKind#TRAINING} the loss and {@code total_loss}); any other outputs {@link #HIDDEN_OUT}
     * {@code [B·T, H]}, and for {@link GraphKind#TRAINING} takes the loss's gradient with respect to it as the
     * placeholder {@link #GRAD_OUT} and defines {@code total_loss = Σ HIDDEN_OUT ⊙ GRAD_OUT + Σ aux}, whose gradients
     * with respect to its input and its adapter weights are the whole model's (chain rule), and {@link #AUX_LOSS}
     * when it has auxiliary losses. Every segment also takes {@code input_ids} (for the batch shape),
     * {@code position_ids}, {@code attn_bias} and {@code token_mask}.
     *
     * @param kind {@link GraphKind#TRAINING} (dropout, auxiliary losses, loss and gradient placeholders) or
     *             {@link GraphKind#INFERENCE} (the segment computes its output, or the logits, only)
     */
    public static LlamaGraph segment(LlamaWeights weights, Map<String, AdapterLayer> adapters,
            Map<String, INDArray> adapterWeights, int firstLayer, int endLayer, GraphKind kind) {
        return segment(weights, adapters, adapterWeights, firstLayer, endLayer, kind, SegmentEnd.HEAD);
    }

    /**
     * As {@link #segment(LlamaWeights, Map, Map, int, int, GraphKind)}; with {@link SegmentEnd#FINAL_NORM} a segment
     * that ends at the last layer stops after the final norm and ends as the other segments do ({@link #HIDDEN_OUT},
     * {@link #GRAD_OUT}, {@link #AUX_LOSS}): the LM head and the loss are computed outside the graph.
     */
    public static LlamaGraph segment(LlamaWeights weights, Map<String, AdapterLayer> adapters,
            Map<String, INDArray> adapterWeights, int firstLayer, int endLayer, GraphKind kind, SegmentEnd end) {
        int layers = weights.config().numHiddenLayers();
        if (firstLayer < 0 || endLayer > layers || firstLayer >= endLayer) {
            throw new IllegalArgumentException("a segment needs 0 ≤ first < end ≤ " + layers + "; got [" + firstLayer
                    + ", " + endLayer + ")");
        }
        if (kind != GraphKind.TRAINING && kind != GraphKind.INFERENCE) {
            throw new IllegalArgumentException("a segment is TRAINING or INFERENCE; got " + kind);
        }
        return new LlamaGraph(weights, adapters, adapterWeights, Map.of(), kind, firstLayer, endLayer, end);
    }

    /**
     * A training graph of full fine-tuning: no adapters, and every base weight a trainable variable ({@code sd.var})
     * named by its Hugging Face key ({@code model.embed_tokens.weight}, {@code model.layers.0.mlp.up_proj.weight},
     * …, {@code lm_head.weight} unless tied), reading the given arrays, which training updates in place. A tied
     * LM head is the embedding variable itself, so its gradient is the sum of both uses. {@code weights} gives the
     * config and the rotary tables; its frozen arrays are not used.
     *
     * <p>A projection is {@code x Wᵀ} with {@code W} {@code [d_out, d_in]} as stored ({@code mmul} with the second
     * factor transposed, whose backward gives {@code dX} and {@code dW}); an RMSNorm weight {@code [H]} enters as
     * {@code [1, H]}. The embedding rows are the product of the tokens' one-hot rows {@code [B·T, V]} with the
     * embedding (the same values as a lookup, exactly), since M2.1's {@code gather} has a wrong backward: its
     * gradient {@code onehotᵀ · dx} costs two {@code B·T·V·H} products, like the LM head's. The loss's gradient
     * with respect to the LM head is computed in closed form with the rest of the loss ({@link LabelledLoss}).
     *
     * @param base     every weight of {@link LlamaWeights#expectedShapes} under its key, of that shape, in the
     *                 weights' compute type ({@link LlamaWeights#dataType()}), e.g. {@link TrainableBase#weights()}
     * @param withLoss add the causal-LM loss (and {@code total_loss}, the graph's loss variable)
     * @throws MorException naming every missing, unexpected or mis-shaped key
     */
    public static LlamaGraph fullTraining(LlamaWeights weights, Map<String, INDArray> base, boolean withLoss) {
        TrainableBase.check(weights.config(), base, weights.dataType(), "full fine-tuning weights");
        return new LlamaGraph(weights, Map.of(), Map.of(), base,
                withLoss ? GraphKind.TRAINING : GraphKind.TRAINING_LOGITS, 0, weights.config().numHiddenLayers(),
                SegmentEnd.HEAD);
    }

    /**
     * A {@linkplain #segment segment} of decoder layers {@code [firstLayer, endLayer)} for full fine-tuning, always a
     * training segment: the trainable variables are the base weights the segment uses ({@link #fullTraining}); a
     * segment that starts at layer 0 holds the embedding, one that ends at the last layer the final norm and the LM
     * head (with a tied head: the embedding again, a second variable over the same array).
     */
    public static LlamaGraph fullSegment(LlamaWeights weights, Map<String, INDArray> base, int firstLayer,
            int endLayer) {
        int layers = weights.config().numHiddenLayers();
        if (firstLayer < 0 || endLayer > layers || firstLayer >= endLayer) {
            throw new IllegalArgumentException("a segment needs 0 ≤ first < end ≤ " + layers + "; got [" + firstLayer
                    + ", " + endLayer + ")");
        }
        TrainableBase.check(weights.config(), base, weights.dataType(), "full fine-tuning weights");
        return new LlamaGraph(weights, Map.of(), Map.of(), base, GraphKind.TRAINING, firstLayer, endLayer,
                SegmentEnd.HEAD);
    }

    /** The placeholder of layer {@code l}'s key cache {@code [B, n_kv, C, hd]} of capacity C (DECODE mode). */
    public static String pastKey(int layer) {
        return "past." + layer + ".key";
    }

    /** The placeholder of layer {@code l}'s value cache {@code [B, n_kv, C, hd]} of capacity C (DECODE mode). */
    public static String pastValue(int layer) {
        return "past." + layer + ".value";
    }

    /** The output of layer {@code l}'s keys at the graph's T positions {@code [B, n_kv, T, hd]} (PREFILL, DECODE). */
    public static String presentKey(int layer) {
        return "present." + layer + ".key";
    }

    /** The output of layer {@code l}'s values at the graph's T positions {@code [B, n_kv, T, hd]} (PREFILL, DECODE). */
    public static String presentValue(int layer) {
        return "present." + layer + ".value";
    }

    /** A graph of the base model alone, of a kind that does not train. */
    public static LlamaGraph base(LlamaWeights weights, GraphKind kind) {
        if (kind.training()) {
            throw new IllegalArgumentException("the base model alone has nothing to train; build " + kind
                    + " with adapters (LlamaAdapters.graph)");
        }
        return build(weights, Map.of(), Map.of(), kind);
    }

    private void define() {
        LlamaConfig c = weights.config();
        DataType dt = weights.dataType();
        SDVariable ids = sd.placeHolder(INPUT_IDS, DataType.INT, -1, -1); // [B, T]
        SDVariable pos = sd.placeHolder(POSITION_IDS, DataType.INT, -1); // [T] or [B·T]
        SDVariable bias = sd.placeHolder(ATTN_BIAS, dt, -1, 1, -1, -1); // [B, 1, T, T]
        SDVariable tokenMask = sd.placeHolder(TOKEN_MASK, dt, -1, 1); // [B·T, 1]
        adapterContext.setTokenMask(tokenMask);
        SDVariable bt = sd.shape(ids).castTo(DataType.LONG); // [2] = {B, T}
        SDVariable b = bt.get(SDIndex.interval(0, 1)); // [1]
        SDVariable t = bt.get(SDIndex.interval(1, 2)); // [1]

        SDVariable invFreq = sd.constant("rope.inv_freq", RotaryTables.repeatedInverseFrequencies(c)); // [1, hd] FLOAT
        SDVariable[] cosSin = RotaryTables.define(sd, pos, invFreq, dt); // 2 × [T, hd] or [B·T, hd]
        SDVariable cos = cosSin[0]; // [T, hd] or [B·T, hd]
        SDVariable sin = cosSin[1]; // [T, hd] or [B·T, hd]
        RotaryEmbedding rope = new RotaryEmbedding(sd, cos, sin, b, t, c.headDim(), dt);

        SDVariable x; // [B·T, H]
        if (firstLayer == 0 && !trainableBase.isEmpty()) {
            // M2.1's gather has a wrong backward: a trainable embedding is a product with the tokens' one-hot rows,
            // whose backward (LeanProduct: no gradient for the one-hot factor) is dE = onehotᵀ · dx
            SDVariable embed = baseVariable("model.embed_tokens.weight"); // [V, H]
            SDVariable rows = sd.oneHot(sd.reshape(ids, -1), c.vocabSize(), 1, 1.0, 0.0, dt); // [B·T, V]
            x = LeanProduct.of(sd, rows, embed, c.hiddenSize()); // [B·T, H]: the rows of E, exactly
        } else if (firstLayer == 0) {
            SDVariable embed = sd.constant("model.embed_tokens.weight", weights.embedTokens()); // [V, H], stored type
            x = sd.gather(embed, sd.reshape(ids, -1), 0); // [B·T, H]
            if (embed.dataType() != dt) {
                x = x.castTo(dt); // [B·T, H]: only the gathered rows are widened
            }
        } else {
            x = sd.placeHolder(HIDDEN_IN, dt, -1, c.hiddenSize()); // [B·T, H]
        }
        x = sd.identity("hidden." + firstLayer, x);
        Shapes shapes = new Shapes(b, t);
        for (int l = firstLayer; l < endLayer; l++) {
            x = decoderLayer(l, x, rope, bias, shapes);
            if (l < c.numHiddenLayers() - 1) {
                x = sd.identity("hidden." + (l + 1), x);
            }
        }
        if (endLayer < c.numHiddenLayers()) {
            defineSegmentOutput(x);
            return;
        }
        x = rmsNorm("model.norm", x, weights.finalNorm());
        x = sd.identity("hidden." + c.numHiddenLayers(), x);
        if (segmentEnd == SegmentEnd.FINAL_NORM) {
            defineSegmentOutput(x);
            return;
        }
        // With a loss, the logits of every position come from a copy of x without a gradient path and are computed
        // only when asked for: the loss runs the head on the labelled positions alone and gives its gradient with
        // respect to x directly instead of through the log-softmax over the vocabulary (LabelledLoss).
        SDVariable headInput = withLoss ? StopGradient.of(sd, x) : x; // [B·T, H]
        sd.identity(LOGITS, linear("lm_head", headInput)); // [B·T, V]
        if (withLoss && trainableBase.isEmpty()) {
            FrozenLinear head = weights.linear("lm_head");
            LabelledLoss.define(sd, x, h -> linear("lm_head", h), e -> head.backProduct(sd, e), null,
                    adapterContext.auxLosses());
        } else if (withLoss) {
            SDVariable head = baseVariable(headKey()); // [V, H], trainable
            SDVariable fixed = StopGradient.of(sd, head); // [V, H]: the loss's own products have no path to it
            LabelledLoss.define(sd, x, h -> sd.mmul(h, fixed, false, true, false), e -> sd.mmul(e, fixed), head,
                    adapterContext.auxLosses());
        }
    }

    /**
     * The end of a segment that stops before the last layer: {@link #HIDDEN_OUT}, and for training the surrogate
     * loss {@code Σ HIDDEN_OUT ⊙ GRAD_OUT} (its gradient with respect to {@code HIDDEN_OUT} is {@code GRAD_OUT}) plus
     * the auxiliary losses.
     *
     * @param x the last layer's output {@code [B·T, H]}
     */
    private void defineSegmentOutput(SDVariable x) {
        SDVariable out = sd.identity(HIDDEN_OUT, x); // [B·T, H]
        if (!adapterContext.training()) {
            return;
        }
        SDVariable upstream = sd.placeHolder(GRAD_OUT, weights.dataType(), -1, weights.config().hiddenSize()); // [B·T, H]
        SDVariable total = out.mul(upstream).sum(); // scalar
        if (!adapterContext.auxLosses().isEmpty()) {
            SDVariable aux = adapterContext.auxLosses().get(0);
            for (SDVariable a : adapterContext.auxLosses().subList(1, adapterContext.auxLosses().size())) {
                aux = aux.add(a);
            }
            aux = sd.identity(AUX_LOSS, aux);
            total = total.add(aux);
        }
        sd.setLossVariables(sd.identity(TOTAL_LOSS, total));
    }

    /** Dynamic shape vectors built from the batch's {B, T}. */
    private final class Shapes {
        final SDVariable b; // [1]
        final SDVariable t; // [1]

        Shapes(SDVariable b, SDVariable t) {
            this.b = b;
            this.t = t;
        }

        SDVariable of(Object... dims) {
            return LongVector.of(sd, dims);
        }
    }

    private SDVariable decoderLayer(int l, SDVariable x, RotaryEmbedding rope, SDVariable bias, Shapes s) {
        String p = "model.layers." + l + ".";
        SDVariable normed = rmsNorm(p + "input_layernorm", x, weights.inputNorm(l)); // [B·T, H]
        x = x.add(attention(l, p + "self_attn.", normed, rope, bias, s)); // [B·T, H]
        normed = rmsNorm(p + "post_attention_layernorm", x, weights.postAttentionNorm(l)); // [B·T, H]
        SDVariable gate = linear(p + "mlp.gate_proj", normed); // [B·T, I]
        SDVariable up = linear(p + "mlp.up_proj", normed); // [B·T, I]
        SDVariable act = sd.nn.swish(gate).mul(up); // [B·T, I]
        return x.add(linear(p + "mlp.down_proj", act)); // [B·T, H]
    }

    /**
     * Causal self-attention of layer {@code l}. With a cache, the new positions' keys and values are output as
     * the present ones; in DECODE the queries also attend to the cache's {@code C} slots, read in place
     * ({@link CachedAttention}), and {@code bias} spans the {@code C+T} keys.
     */
    private SDVariable attention(int l, String p, SDVariable x, RotaryEmbedding rope, SDVariable bias,
            Shapes s) {
        LlamaConfig c = weights.config();
        int nh = c.numAttentionHeads();
        int nkv = c.numKeyValueHeads();
        int hd = c.headDim();
        // queries come out of the rotation already scaled by 1/√hd
        SDVariable q = heads(rope.apply(linear(p + "q_proj", x), nh, 1.0 / Math.sqrt(hd)), nh, hd, s); // [B, nh, T, hd]
        SDVariable k = heads(rope.apply(linear(p + "k_proj", x), nkv, 1.0), nkv, hd, s); // [B, nkv, T, hd]
        SDVariable v = heads(linear(p + "v_proj", x), nkv, hd, s); // [B, nkv, T, hd]
        if (kind.caches()) {
            k = sd.identity(presentKey(l), k); // [B, nkv, T, hd]
            v = sd.identity(presentValue(l), v); // [B, nkv, T, hd]
        }
        SDVariable ctx; // [B, nh, T, hd]
        if (kind == GraphKind.DECODE) {
            DataType dt = weights.dataType();
            SDVariable cacheK = sd.placeHolder(pastKey(l), dt, -1, nkv, -1, hd); // [B, nkv, C, hd]
            SDVariable cacheV = sd.placeHolder(pastValue(l), dt, -1, nkv, -1, hd); // [B, nkv, C, hd]
            ctx = CachedAttention.of(sd, q, cacheK, cacheV, k, v, bias, s.b, s.t, nh, nkv, hd); // [B, nh, T, hd]
        } else {
            if (nkv != nh) {
                k = repeatKv(k, c.kvGroups(), nh, hd, s); // [B, nh, T, hd]
                v = repeatKv(v, c.kvGroups(), nh, hd, s); // [B, nh, T, hd]
            }
            ctx = causalBlocks ? CausalAttention.twoBlocks(sd, q, k, v, bias, s.b, s.t, nh, hd)
                    : CausalAttention.whole(sd, q, k, v, bias); // [B, nh, T, hd]
        }
        SDVariable merged = sd.reshape(sd.permute(ctx, 0, 2, 1, 3), -1, (long) nh * hd); // [B·T, nh·hd]
        return linear(p + "o_proj", merged); // [B·T, H]
    }

    /** {@code [B·T, n·hd]} → {@code [B, n, T, hd]}. */
    private SDVariable heads(SDVariable x, int n, int hd, Shapes s) {
        SDVariable x4 = sd.reshape(x, s.of(s.b, s.t, n, hd)); // [B, T, n, hd]
        return sd.permute(x4, 0, 2, 1, 3); // [B, n, T, hd]
    }

    /** Grouped-query attention: each key/value head serves {@code groups} query heads. */
    private SDVariable repeatKv(SDVariable kv, int groups, int nh, int hd, Shapes s) {
        SDVariable e = sd.expandDims(kv, 2); // [B, nkv, 1, T, hd]
        SDVariable tiled = sd.tile(e, 1, 1, groups, 1, 1); // [B, nkv, groups, T, hd]
        return sd.reshape(tiled, s.of(s.b, nh, -1, hd)); // [B, nh, T, hd]
    }

    /**
     * RMSNorm as transformers computes it, {@code w · x / sqrt(mean(x²) + eps)}, with the per-token factor and the
     * weight joined into one {@code [B·T, H]} scale by an outer product: multiplying by it is element by element,
     * whereas multiplying by the factor and by the weight in turn would be two broadcasting multiplications, whose
     * backward passes (broadcast reductions) are slow in SameDiff M2.1. The outer product is a {@link LeanProduct},
     * so its backward forms no gradient for the constant weight; {@code x²} is {@code x ⊙ x}, whose backward is
     * two multiplications, where {@code square}'s goes through a much slower power derivative.
     */
    private SDVariable rmsNorm(String name, SDVariable x, INDArray weight) {
        SDVariable w = trainableBase.isEmpty()
                ? sd.constant(name + ".weight", weight.reshape(1, weight.length()).dup()) // [1, H]
                : sd.reshape(baseVariable(name + ".weight"), 1, weight.length()); // [1, H]
        SDVariable meanSq = x.mul(x).mean(true, 1); // [B·T, 1]
        SDVariable inv = sd.math.rsqrt(meanSq.add(weights.config().rmsNormEps())); // [B·T, 1]
        return x.mul(LeanProduct.of(sd, inv, w, weight.length())); // [B·T, H]
    }

    /** A projection, through its adapter when one is spliced in, or of its trainable weight in full fine-tuning. */
    private SDVariable linear(String module, SDVariable x) {
        AdapterLayer adapter = adapters.get(module);
        if (adapter != null) {
            return adapter.forward(adapterContext, x);
        }
        if (!trainableBase.isEmpty()) {
            SDVariable w = baseVariable(module.equals("lm_head") ? headKey() : module + ".weight"); // [d_out, d_in]
            return sd.mmul(x, w, false, true, false); // [tokens, d_out]
        }
        FrozenLinear f = weights.linear(module);
        return f.forward(sd, x);
    }

    /** The LM head's key: the embedding's when tied. */
    private String headKey() {
        return weights.config().tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
    }

    /** The trainable variable of base weight {@code key} (full fine-tuning), created on first use. */
    private SDVariable baseVariable(String key) {
        return sd.hasVariable(key) ? sd.getVariable(key) : sd.var(key, trainableBase.get(key));
    }

    /**
     * The placeholder values of {@code batch} for this graph ({@link LlamaFeeds#of}, in the weights' type), with the
     * labels' placeholders when the graph's kind has a loss.
     *
     * @param reduction how the loss reduces over the labelled tokens (read only by kinds with a loss)
     * @throws MorException when this graph cannot run the batch: a kind with a loss needs labels, and a training
     *                      graph needs at least 2 positions (its attention runs in two causal blocks)
     */
    public Map<String, INDArray> feeds(Batch batch, LlamaFeeds.Reduction reduction) {
        requireSequenceLength(batch.seqLen());
        if (kind.hasLoss() && batch.labels() == null) {
            throw new MorException("a " + kind + " graph computes the loss: the batch needs labels (build "
                    + (kind.training() ? "TRAINING_LOGITS" : "INFERENCE") + " for logits alone)");
        }
        Map<String, INDArray> feeds = LlamaFeeds.of(weights.config(), batch, kind.hasLoss(), reduction,
                weights.dataType());
        if (adapterContext.needsTasks()) {
            feeds.putAll(LlamaFeeds.tasks(batch, taskCount(), weights.dataType()));
        }
        return feeds;
    }

    /**
     * One pass of the training graph: the gradients of {@code total_loss} (the loss plus auxiliary losses) with
     * respect to {@code trainables}, with the values of {@link #LOSS}, {@link #TOTAL_LOSS} and {@code extraOutputs}.
     * The one way to differentiate this graph: {@code loss} has no gradient path of its own.
     *
     * @param feeds      the placeholders ({@link #feeds}, with dropout masks if the adapters have dropout)
     * @param trainables the adapter weights to differentiate, by PEFT key
     * @throws MorException if this graph is not {@link GraphKind#TRAINING}, or its loss variable is no longer
     *                      {@code total_loss}
     */
    public OutAndGrad gradients(Map<String, INDArray> feeds, Collection<String> trainables, String... extraOutputs) {
        requireTrainingLoss();
        List<String> outputs = new ArrayList<>(List.of(LOSS, TOTAL_LOSS));
        outputs.addAll(List.of(extraOutputs));
        return GradientFunction.run(sd, feeds, outputs, trainables);
    }

    /**
     * The training graph as a trainer's {@link dev.mor4j.core.train.GradientSource}: each micro-batch's
     * {@code total_loss} and its gradients with respect to {@code trainables}.
     *
     * @throws MorException if this graph is not {@link GraphKind#TRAINING}, or its loss variable is no longer
     *                      {@code total_loss}
     */
    public SameDiffGradients gradientSource(List<String> trainables, SameDiffGradients.BatchSupplier batches) {
        requireTrainingLoss();
        return new SameDiffGradients(sd, TOTAL_LOSS, trainables, batches);
    }

    /** Fails unless this is a whole training graph whose loss variable is still {@code total_loss}. */
    private void requireTrainingLoss() {
        if (kind != GraphKind.TRAINING || !withLoss) {
            throw new MorException("gradients need a TRAINING graph, whose total_loss (the loss plus auxiliary"
                    + " losses) has the gradient path; this graph is " + kind + (withLoss || kind != GraphKind.TRAINING
                    ? "" : " segment of layers [" + firstLayer + ", " + endLayer + ")"));
        }
        if (!sd.getLossVariables().equals(List.of(TOTAL_LOSS))) {
            throw new MorException("the graph's loss variables were set to " + sd.getLossVariables() + "; its"
                    + " gradients are those of " + TOTAL_LOSS + " (" + LOSS + " has no gradient path of its own)");
        }
    }

    /** The number of tasks of this graph's per-example adapters (MoRE), 0 when it has none. */
    public int taskCount() {
        return adapterContext.taskCount();
    }

    private void requireSequenceLength(int seqLen) {
        if (causalBlocks && seqLen < 2) {
            throw new MorException("a training graph needs sequences of at least 2 tokens (its attention runs in two"
                    + " causal blocks); got a batch of " + seqLen + " token(s): there is no next-token label to"
                    + " train on");
        }
    }

    public SameDiff sd() {
        return sd;
    }

    public LlamaWeights weights() {
        return weights;
    }

    public AdapterContext adapterContext() {
        return adapterContext;
    }

    public Map<String, AdapterLayer> adapters() {
        return Collections.unmodifiableMap(adapters);
    }

    /** Whether every base weight is a trainable variable ({@link #fullTraining}). */
    public boolean trainsBase() {
        return !trainableBase.isEmpty();
    }

    /** Whether this graph computes the loss ({@link #LOSS}, and {@link #TOTAL_LOSS} when training). */
    public boolean hasLoss() {
        return withLoss;
    }

    /** What this graph was built for. */
    public GraphKind kind() {
        return kind;
    }

    /** The first decoder layer this graph computes (0 unless a {@link #segment}). */
    public int firstLayer() {
        return firstLayer;
    }

    /** One past the last decoder layer this graph computes (all layers unless a {@link #segment}). */
    public int endLayer() {
        return endLayer;
    }
}
