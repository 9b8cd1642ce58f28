package dev.mor4j.llama.model;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterContext;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.core.nn.LeanProduct;
import dev.mor4j.core.nn.StopGradient;
import dev.mor4j.llama.config.LlamaConfig;
import java.util.Collections;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterNdSub;

/**
 * LlamaForCausalLM as one SameDiff graph, with the base weights as constants and any adapters spliced
 * into named projections.
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
 *   <li>with a loss: {@code label_ids} {@code [B·T]} INT (the next-token label of each position, 0 where
 *       not counted) and {@code label_weight} {@code [B·T]} FLOAT (1/count for counted positions, else 0)</li>
 * </ul>
 * Float placeholders and all arithmetic are in the weights' type ({@link LlamaWeights#dataType()}).
 * Outputs: {@code logits} {@code [B·T, V]}, {@code hidden.0} … {@code hidden.L} ({@code [B·T, H]}: the
 * embeddings, then each layer's output; the last one after the final norm, as transformers returns them),
 * and {@code loss} (scalar) plus {@code total_loss} (loss plus auxiliary losses) when built with a loss.
 * Differentiate {@code total_loss}, the graph's loss variable: in a graph with a loss, {@code loss} and
 * {@code logits} have no gradient path of their own (the loss's gradient with respect to the final hidden
 * states is computed in closed form and enters through {@code total_loss}); to differentiate a loss of your
 * own on {@code logits}, build the graph without one.
 *
 * <p>A training graph computes attention in two causal query blocks ({@link CausalAttention#twoBlocks}), which
 * leaves out the scores that the causal mask would zero anyway; it therefore needs batches of at least two
 * positions (checked by {@link #feeds}), as every training example has (BOS and a label). A packed batch's
 * block-diagonal mask zeroes a subset of what the causal mask keeps, so the blocks leave out only zeros there too.
 *
 * <p>For generation with a key/value cache ({@link #forGeneration}) the same graph is built in one of two
 * further {@linkplain KvCacheMode modes}: {@link KvCacheMode#PREFILL} also outputs each layer's keys and
 * values, and {@link KvCacheMode#DECODE} additionally takes the keys and values of all earlier positions as
 * placeholders, so that only the new tokens are computed. In both modes:
 * <ul>
 *   <li>outputs {@code present.{l}.key} and {@code present.{l}.value} {@code [B, n_kv, P+T, hd]}: layer
 *       {@code l}'s keys (after rotary embedding) and values of every position, earlier ones first</li>
 *   <li>in {@link KvCacheMode#DECODE}, placeholders {@code past.{l}.key} and {@code past.{l}.value}
 *       {@code [B, n_kv, P, hd]}, {@code position_ids} {@code [T]} holding the new tokens' positions
 *       {@code P … P+T-1}, and {@code attn_bias} {@code [B, 1, T, P+T]} over all positions</li>
 * </ul>
 */
public final class LlamaGraph {

    public static final String INPUT_IDS = "input_ids";
    public static final String POSITION_IDS = "position_ids";
    public static final String ATTN_BIAS = "attn_bias";
    public static final String TOKEN_MASK = "token_mask";
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

    /** How a graph takes part in key/value caching for generation. */
    public enum KvCacheMode {
        /** No cache: the scoring and training graph. */
        NONE,
        /** Outputs every layer's keys and values of the tokens it is given: the prompt's pass. */
        PREFILL,
        /** Takes the keys and values of the earlier positions and outputs them extended by the new tokens'. */
        DECODE
    }

    private final LlamaWeights weights;
    private final SameDiff sd;
    private final AdapterContext adapterContext;
    private final Map<String, AdapterLayer> adapters;
    private final boolean withLoss;
    private final KvCacheMode kvCache;
    /** Attention in two causal query blocks ({@link CausalAttention#twoBlocks}): training graphs. */
    private final boolean causalBlocks;
    /** The decoder layers this graph computes: {@code [firstLayer, endLayer)}; all of them unless a segment. */
    private final int firstLayer;
    private final int endLayer;

    private LlamaGraph(LlamaWeights weights, Map<String, AdapterLayer> adapters, Map<String, INDArray> adapterWeights,
            boolean training, boolean withLoss, KvCacheMode kvCache) {
        this(weights, adapters, adapterWeights, training, withLoss, kvCache, 0, weights.config().numHiddenLayers());
    }

    private LlamaGraph(LlamaWeights weights, Map<String, AdapterLayer> adapters, Map<String, INDArray> adapterWeights,
            boolean training, boolean withLoss, KvCacheMode kvCache, int firstLayer, int endLayer) {
        this.weights = weights;
        this.firstLayer = firstLayer;
        this.endLayer = endLayer;
        this.sd = SameDiff.create();
        // Hold the given arrays themselves: SameDiff's default holders copy every constant and variable, which
        // doubles the memory of the frozen weights and detaches the variables from the adapter weight map.
        sd.setArrayHolders(new SingleThreadArrayHolder(), new SingleThreadArrayHolder(), false);
        this.adapters = adapters;
        this.withLoss = withLoss;
        this.kvCache = kvCache;
        this.causalBlocks = training && kvCache == KvCacheMode.NONE;
        this.adapterContext = new AdapterContext(sd, adapterWeights, training);
        adapterContext.setAdaptedModules(Math.max(1, adapters.size()));
        define();
    }

    /**
     * Builds the graph.
     *
     * @param adapters       adapter layers by the module name they replace (e.g. {@code model.layers.0.mlp.up_proj}); may be empty
     * @param adapterWeights the adapters' weights by full PEFT key (trained in place)
     * @param training       build dropout masks and auxiliary losses, and compute attention in two causal
     *                       blocks (batches then need at least 2 tokens)
     * @param withLoss       add the causal-LM loss
     */
    public static LlamaGraph build(LlamaWeights weights, Map<String, AdapterLayer> adapters,
            Map<String, INDArray> adapterWeights, boolean training, boolean withLoss) {
        return new LlamaGraph(weights, adapters, adapterWeights, training, withLoss, KvCacheMode.NONE);
    }

    /**
     * An inference graph (no dropout, no loss) for generation with a key/value cache.
     *
     * @param adapters       adapter layers by module name; may be empty
     * @param adapterWeights the adapters' weights by full PEFT key
     * @param mode           {@link KvCacheMode#PREFILL} for the prompt, {@link KvCacheMode#DECODE} for the
     *                       tokens after it
     */
    public static LlamaGraph forGeneration(LlamaWeights weights, Map<String, AdapterLayer> adapters,
            Map<String, INDArray> adapterWeights, KvCacheMode mode) {
        if (mode == KvCacheMode.NONE) {
            throw new IllegalArgumentException("forGeneration needs PREFILL or DECODE; use build for a graph without cache");
        }
        return new LlamaGraph(weights, adapters, adapterWeights, false, false, mode);
    }

    /**
     * A graph of decoder layers {@code [firstLayer, endLayer)} alone, for running a model layer by layer (see
     * {@link dev.mor4j.llama.train.LayerwiseGradients}). A segment that starts at layer 0 begins with the embedding
     * lookup, any other takes the hidden states as the placeholder {@link #HIDDEN_IN} {@code [B·T, H]}. A segment
     * that ends at the last layer ends as the whole graph does (final norm, {@code logits}, and with
     * {@code training} the loss and {@code total_loss}); any other outputs {@link #HIDDEN_OUT} {@code [B·T, H]}, and
     * with {@code training} takes the loss's gradient with respect to it as the placeholder {@link #GRAD_OUT} and
     * defines {@code total_loss = Σ HIDDEN_OUT ⊙ GRAD_OUT + Σ aux}, whose gradients with respect to its input and
     * its adapter weights are the whole model's (chain rule), and {@link #AUX_LOSS} when it has auxiliary losses.
     * Every segment also takes {@code input_ids} (for the batch shape), {@code position_ids}, {@code attn_bias} and
     * {@code token_mask}.
     *
     * @param training a training segment (dropout, auxiliary losses, loss and gradient placeholders); else the
     *                 segment computes its output (or the logits) only
     */
    public static LlamaGraph segment(LlamaWeights weights, Map<String, AdapterLayer> adapters,
            Map<String, INDArray> adapterWeights, int firstLayer, int endLayer, boolean training) {
        int layers = weights.config().numHiddenLayers();
        if (firstLayer < 0 || endLayer > layers || firstLayer >= endLayer) {
            throw new IllegalArgumentException("a segment needs 0 ≤ first < end ≤ " + layers + "; got [" + firstLayer
                    + ", " + endLayer + ")");
        }
        return new LlamaGraph(weights, adapters, adapterWeights, training, training && endLayer == layers,
                KvCacheMode.NONE, firstLayer, endLayer);
    }

    /** The placeholder of layer {@code l}'s cached keys {@code [B, n_kv, P, hd]} (DECODE mode). */
    public static String pastKey(int layer) {
        return "past." + layer + ".key";
    }

    /** The placeholder of layer {@code l}'s cached values {@code [B, n_kv, P, hd]} (DECODE mode). */
    public static String pastValue(int layer) {
        return "past." + layer + ".value";
    }

    /** The output of layer {@code l}'s keys at every position {@code [B, n_kv, P+T, hd]} (PREFILL, DECODE). */
    public static String presentKey(int layer) {
        return "present." + layer + ".key";
    }

    /** The output of layer {@code l}'s values at every position {@code [B, n_kv, P+T, hd]} (PREFILL, DECODE). */
    public static String presentValue(int layer) {
        return "present." + layer + ".value";
    }

    /** A graph of the base model alone. */
    public static LlamaGraph base(LlamaWeights weights, boolean withLoss) {
        return build(weights, Map.of(), Map.of(), false, withLoss);
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

        INDArray[] tables = weights.rotaryTables(); // 2 × [positions, hd], shared by every graph of these weights
        SDVariable cos = sd.gather(sd.constant("rope.cos", tables[0].castTo(dt)), pos, 0); // [T, hd] or [B·T, hd]
        SDVariable sin = sd.gather(sd.constant("rope.sin", tables[1].castTo(dt)), pos, 0); // [T, hd] or [B·T, hd]
        RotaryEmbedding rope = new RotaryEmbedding(sd, cos, sin, b, t, c.headDim(), dt);

        SDVariable x; // [B·T, H]
        if (firstLayer == 0) {
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
        // With a loss, the logits come from a copy of x without a gradient path: defineLoss gives the loss's
        // gradient with respect to x directly instead of through the log-softmax over the vocabulary.
        SDVariable headInput = withLoss ? StopGradient.of(sd, x) : x; // [B·T, H]
        SDVariable logits = sd.identity(LOGITS, linear("lm_head", headInput)); // [B·T, V]
        if (withLoss) {
            defineLoss(x, logits);
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
     * Causal self-attention of layer {@code l}. With a cache, the new keys and values are appended to the
     * past ones ({@code P} earlier positions, none in PREFILL) and the result is output as the present ones;
     * {@code bias} then spans all {@code P+T} key positions.
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
        if (kvCache == KvCacheMode.DECODE) {
            DataType dt = weights.dataType();
            k = sd.concat(2, sd.placeHolder(pastKey(l), dt, -1, nkv, -1, hd), k); // [B, nkv, P+T, hd]
            v = sd.concat(2, sd.placeHolder(pastValue(l), dt, -1, nkv, -1, hd), v); // [B, nkv, P+T, hd]
        }
        if (kvCache != KvCacheMode.NONE) {
            k = sd.identity(presentKey(l), k); // [B, nkv, P+T, hd]
            v = sd.identity(presentValue(l), v); // [B, nkv, P+T, hd]
        }
        if (nkv != nh) {
            k = repeatKv(k, c.kvGroups(), nh, hd, s); // [B, nh, P+T, hd]
            v = repeatKv(v, c.kvGroups(), nh, hd, s); // [B, nh, P+T, hd]
        }
        // P = 0 without a cache
        SDVariable ctx = causalBlocks ? CausalAttention.twoBlocks(sd, q, k, v, bias, s.b, s.t, nh, hd)
                : CausalAttention.whole(sd, q, k, v, bias); // [B, nh, T, hd]
        SDVariable merged = sd.reshape(sd.permute(ctx, 0, 2, 1, 3), -1, (long) nh * hd); // [B·T, nh·hd]
        return linear(p + "o_proj", merged); // [B·T, H]
    }

    /** {@code [B·T, n·hd]} → {@code [B, n, T, hd]}. */
    private SDVariable heads(SDVariable x, int n, int hd, Shapes s) {
        SDVariable x4 = sd.reshape(x, s.of(s.b, s.t, n, hd)); // [B, T, n, hd]
        return sd.permute(x4, 0, 2, 1, 3); // [B, n, T, hd]
    }

    /**
     * Grouped-query attention: each key/value head serves {@code groups} query heads. The key length
     * {@code S} is T, or P+T with a cache.
     */
    private SDVariable repeatKv(SDVariable kv, int groups, int nh, int hd, Shapes s) {
        SDVariable e = sd.expandDims(kv, 2); // [B, nkv, 1, S, hd]
        SDVariable tiled = sd.tile(e, 1, 1, groups, 1, 1); // [B, nkv, groups, S, hd]
        return sd.reshape(tiled, s.of(s.b, nh, -1, hd)); // [B, nh, S, hd]
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
        SDVariable w = sd.constant(name + ".weight", weight.reshape(1, weight.length()).dup()); // [1, H]
        SDVariable meanSq = x.mul(x).mean(true, 1); // [B·T, 1]
        SDVariable inv = sd.math.rsqrt(meanSq.add(weights.config().rmsNormEps())); // [B·T, 1]
        return x.mul(LeanProduct.of(sd, inv, w, weight.length())); // [B·T, H]
    }

    /** A projection, through its adapter when one is spliced in. */
    private SDVariable linear(String module, SDVariable x) {
        AdapterLayer adapter = adapters.get(module);
        if (adapter != null) {
            return adapter.forward(adapterContext, x);
        }
        FrozenLinear f = weights.linear(module);
        return f.forward(sd, x);
    }

    /**
     * Causal-LM loss as transformers computes it: {@code Σ_t w_t · (logsumexp(logits_t) − logits_t[y_t])} with
     * {@code w_t = 1/count} on counted positions (mean) or 1 (sum). The label's logit is read from the
     * logits at {@code (t, y_t)} ({@code gather_nd}, which is never differentiated: the logits have no gradient
     * path here); no {@code [B·T, V]} one-hot is built.
     *
     * <p>The loss's value has no gradient path (the logits come from a detached copy of the hidden states).
     * Its gradient with respect to the final hidden states is known in closed form,
     * {@code g_t = w_t · (Σ_v softmax(logits_t)_v W_lm[v] − W_lm[y_t])}, and is computed in the forward pass
     * from the same {@code exp} that gives the loss, with {@code Σexp} subtracted at each label
     * ({@code scatter_nd_sub}) so that the label's row comes out of the same product instead of a strided
     * gather of lm_head columns: one {@code [B·T, V]·[V, H]} product, the one the backward
     * pass of the lm_head would otherwise run, and nothing over {@code [B·T, V]} in the backward pass (which
     * in M2.1 would compute the {@code exp} a second time and reduce a gradient for the shift). It enters
     * {@code total_loss} as {@code s − stop(s)} with {@code s = Σ_t h_t · g_t}: exactly 0 in value, gradient
     * {@code g} with respect to {@code h}. So {@code loss} is for reading and {@code total_loss} is the one to
     * differentiate; asking for {@code loss} alone does not run the extra product.
     *
     * @param hidden the final hidden states {@code [B·T, H]}
     * @param logits {@code [B·T, V]}, computed from a copy of {@code hidden} without a gradient path
     */
    private void defineLoss(SDVariable hidden, SDVariable logits) {
        SDVariable labelIds = sd.placeHolder(LABEL_IDS, DataType.INT, -1); // [B·T]
        SDVariable labelWeight = sd.placeHolder(LABEL_WEIGHT, weights.dataType(), -1); // [B·T]
        // Any shift m gives the same log-sum-exp; the row maximum's integer part keeps exp from overflowing.
        SDVariable max = logits.max(true, 1).castTo(DataType.INT).castTo(logits.dataType()); // [B·T, 1]
        SDVariable exp = sd.math.exp(logits.sub(max)); // [B·T, V]
        SDVariable sumExp = exp.sum(true, 1); // [B·T, 1]
        SDVariable lse = sd.math.log(sumExp).add(max); // [B·T, 1]
        SDVariable headT = weights.linear("lm_head").weightConstant(sd); // [H, V]
        SDVariable rows = sd.range(sd.constant(0), sd.sizeAt(labelIds, 0).castTo(DataType.INT), sd.constant(1),
                DataType.INT); // [B·T]
        SDVariable at = sd.stack(1, rows, labelIds); // [B·T, 2]: (t, y_t)
        SDVariable picked = sd.gatherNd(logits, at); // [B·T]: logits_t[y_t]
        SDVariable perToken = sd.reshape(lse, -1).sub(picked); // [B·T]
        // Σ_v softmax_v W_lm[v] − W_lm[y_t] = Σ_v (exp_v − [v = y_t]·Σexp) W_lm[v] / Σexp: one product
        SDVariable expMinusLabel = new ScatterNdSub(sd, exp, at, sd.reshape(sumExp, -1)).outputVariable(); // [B·T, V]
        SDVariable gradient = sd.mmul(expMinusLabel, headT, false, true, false).div(sumExp)
                .mul(sd.reshape(labelWeight, -1, 1)); // [B·T, H]
        SDVariable loss = sd.identity(LOSS, perToken.mul(labelWeight).sum()); // scalar

        SDVariable surrogate = hidden.mul(gradient).sum(); // scalar; d/d hidden = gradient
        SDVariable total = loss.add(surrogate.sub(StopGradient.of(sd, surrogate)));
        for (SDVariable aux : adapterContext.auxLosses()) {
            total = total.add(aux);
        }
        total = sd.identity(TOTAL_LOSS, total);
        sd.setLossVariables(total);
    }

    /**
     * The placeholder values of {@code batch} for this graph ({@link LlamaFeeds#of}, in the weights' type).
     *
     * @param withLoss   also the labels' placeholders (the batch needs labels)
     * @throws MorException when this graph cannot run a batch of that length: a training graph needs at least
     *                      2 positions (its attention runs in two causal blocks)
     */
    public Map<String, INDArray> feeds(Batch batch, boolean withLoss, LlamaFeeds.Reduction reduction) {
        requireSequenceLength(batch.seqLen());
        Map<String, INDArray> feeds = LlamaFeeds.of(weights.config(), batch, withLoss, reduction, weights.dataType());
        if (adapterContext.needsTasks()) {
            feeds.putAll(LlamaFeeds.tasks(batch, taskCount(), weights.dataType()));
        }
        return feeds;
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

    public boolean hasLoss() {
        return withLoss;
    }

    /** The first decoder layer this graph computes (0 unless a {@link #segment}). */
    public int firstLayer() {
        return firstLayer;
    }

    /** One past the last decoder layer this graph computes (all layers unless a {@link #segment}). */
    public int endLayer() {
        return endLayer;
    }

    /** How this graph takes part in key/value caching ({@link KvCacheMode#NONE} unless built for generation). */
    public KvCacheMode kvCacheMode() {
        return kvCache;
    }
}
