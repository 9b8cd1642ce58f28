package dev.mor4j.llama.model;

import dev.mor4j.core.MorException;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.llama.config.LlamaConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The frozen weights of a LlamaForCausalLM, checked against its config: every expected key present with
 * its expected shape, no unexpected keys. All problems are reported together in one message.
 *
 * <p>The projections and the embedding table stay in the checkpoint's type: BF16 and F16 weights are held in 16
 * bits (half the memory of float32) and widened to the compute type (FLOAT) inside the graph just before each
 * product ({@link FrozenLinear#resident}); F32 weights are held as they are. The norm weights (a few vectors) are
 * held in the compute type. Everything the graph computes is in the compute type, {@link #dataType()}.
 */
public final class LlamaWeights {

    /** Projections of one decoder layer, in Hugging Face's order and naming. */
    public static final List<String> PROJECTIONS =
            List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");

    /**
     * The most parameters of a 16-bit LM head widened at once: a larger head is held in vocabulary blocks of at most
     * this many ({@link FrozenLinear#resident(String, INDArray, DataType, long)}), 64 MB each once widened. LLaMA-3's
     * head ({@code 128256 × 4096}) is held in 32 blocks of 4,008 rows, LLaMA-2-7B's ({@code 32000 × 4096}) in 8.
     * Blocks of 4,000 rows keep the head's products large ({@code [m, 4096] × [4096, 4008]}) while the widened
     * block, which the blockwise loss keeps from step to step, costs 64 MB rather than the 256 MB of 2^26.
     */
    public static final long HEAD_BLOCK_PARAMETERS = 1L << 24;

    private final LlamaConfig config;
    private final DataType computeType;
    private final INDArray embedTokens; // [V, H] in the stored type
    private final INDArray[] inputNorm; // L × [H]
    private final INDArray[] postAttentionNorm; // L × [H]
    private final INDArray finalNorm; // [H]
    private final Map<String, FrozenLinear> linears; // "model.layers.{l}.{proj}" and "lm_head"

    private LlamaWeights(LlamaConfig config, DataType computeType, INDArray embedTokens, INDArray[] inputNorm,
            INDArray[] postAttentionNorm, INDArray finalNorm, Map<String, FrozenLinear> linears) {
        this.config = config;
        this.computeType = computeType;
        this.embedTokens = embedTokens;
        this.inputNorm = inputNorm;
        this.postAttentionNorm = postAttentionNorm;
        this.finalNorm = finalNorm;
        this.linears = linears;
    }

    /** Loads every weight through {@code load}, one at a time, releasing each loaded array once converted. */
    private LlamaWeights(LlamaConfig config, Function<String, INDArray> load) {
        this.config = config;
        this.computeType = DataType.FLOAT;
        int layers = config.numHiddenLayers();
        INDArray embed = load.apply("model.embed_tokens.weight"); // [V, H]
        this.embedTokens = FrozenLinear.isSixteenBit(embed.dataType()) ? embed : converted(embed, computeType);
        this.inputNorm = new INDArray[layers];
        this.postAttentionNorm = new INDArray[layers];
        this.linears = new LinkedHashMap<>();
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            inputNorm[l] = converted(load.apply(p + "input_layernorm.weight"), computeType);
            for (String proj : PROJECTIONS) {
                if (proj.equals("mlp.gate_proj")) { // the checkpoint's order (expectedShapes)
                    postAttentionNorm[l] = converted(load.apply(p + "post_attention_layernorm.weight"), computeType);
                }
                INDArray w = load.apply(p + proj + ".weight"); // [d_out, d_in]
                linears.put(p + proj, FrozenLinear.resident(p + proj, w, computeType));
                w.close(); // the layer holds its own transposed copy
            }
        }
        this.finalNorm = converted(load.apply("model.norm.weight"), computeType);
        if (config.tieWordEmbeddings()) {
            linears.put("lm_head", FrozenLinear.resident("lm_head", embedTokens, computeType, HEAD_BLOCK_PARAMETERS));
        } else {
            INDArray head = load.apply("lm_head.weight"); // [V, H]
            linears.put("lm_head", FrozenLinear.resident("lm_head", head, computeType, HEAD_BLOCK_PARAMETERS));
            head.close();
        }
    }

    /** {@code a} in {@code type}; a loaded array that had to be converted is released at once. */
    private static INDArray converted(INDArray a, DataType type) {
        if (a.dataType() == type) {
            return a;
        }
        INDArray c = a.castTo(type);
        a.close();
        return c;
    }

    /**
     * The key → shape every weight of this config must have.
     */
    public static Map<String, long[]> expectedShapes(LlamaConfig c) {
        long h = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long inter = c.intermediateSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            m.put(p + "input_layernorm.weight", new long[] {h});
            m.put(p + "self_attn.q_proj.weight", new long[] {q, h});
            m.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            m.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            m.put(p + "self_attn.o_proj.weight", new long[] {h, q});
            m.put(p + "post_attention_layernorm.weight", new long[] {h});
            m.put(p + "mlp.gate_proj.weight", new long[] {inter, h});
            m.put(p + "mlp.up_proj.weight", new long[] {inter, h});
            m.put(p + "mlp.down_proj.weight", new long[] {h, inter});
        }
        m.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings()) {
            m.put("lm_head.weight", new long[] {c.vocabSize(), h});
        }
        return m;
    }

    /**
     * Checks and loads the weights.
     *
     * @param source    description of where they come from (a directory), for messages
     * @param keys      every key the checkpoint holds
     * @param shapeOf   the shape of a key, without loading it
     * @param load      loads a key as a new array of its stored type (16-bit weights are kept in 16 bits) or
     *                  FLOAT, which the weights then own: called once per key in {@link #expectedShapes}'s order
     */
    public static LlamaWeights load(LlamaConfig config, String source, Set<String> keys,
            Function<String, long[]> shapeOf, Function<String, INDArray> load) {
        Map<String, long[]> expected = expectedShapes(config);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            if (!keys.contains(e.getKey())) {
                problems.add(e.getKey() + ": missing, expected shape " + Arrays.toString(e.getValue()));
            } else {
                long[] actual = shapeOf.apply(e.getKey());
                if (!Arrays.equals(actual, e.getValue())) {
                    problems.add(e.getKey() + ": expected " + Arrays.toString(e.getValue()) + ", got "
                            + Arrays.toString(actual));
                }
            }
        }
        for (String k : new TreeSet<>(keys)) {
            if (!expected.containsKey(k) && !ignorable(k, config)) {
                problems.add(k + ": unexpected key (shape " + Arrays.toString(shapeOf.apply(k)) + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new MorException(source + ": the weights do not match config.json (" + problems.size()
                    + " problem" + (problems.size() == 1 ? "" : "s") + "):\n  " + String.join("\n  ", problems));
        }
        return new LlamaWeights(config, load);
    }

    /** transformers' default {@code initializer_range} of a LLaMA config. */
    public static final double DEFAULT_INITIALIZER_RANGE = 0.02;

    /**
     * Randomly initialised weights, as transformers' {@code LlamaPreTrainedModel._init_weights} makes them: every
     * matrix (embedding, projections, an untied lm_head) drawn from {@code N(0, initializerRange²)}, every RMSNorm
     * weight 1. The matrices are drawn in {@link #expectedShapes}'s order from ND4J's generator seeded with
     * {@code seed} (its global generator: not thread-safe), so the same seed gives the same weights. A tied lm_head
     * is the embedding itself.
     *
     * @param initializerRange the standard deviation of the matrices ({@link #DEFAULT_INITIALIZER_RANGE})
     */
    public static LlamaWeights random(LlamaConfig config, long seed, double initializerRange) {
        if (!(initializerRange > 0 && Double.isFinite(initializerRange))) {
            throw new IllegalArgumentException("initializer_range is " + initializerRange + "; expected a number > 0");
        }
        Map<String, long[]> shapes = expectedShapes(config);
        Nd4j.getRandom().setSeed(seed);
        return load(config, "random init (seed " + seed + ")", shapes.keySet(), shapes::get, key -> {
            long[] shape = shapes.get(key);
            return shape.length == 1 ? Nd4j.ones(DataType.FLOAT, shape) // RMSNorm weights [H]
                    : Nd4j.randn(DataType.FLOAT, shape).muli(initializerRange); // [d_out, d_in] or [V, H]
        });
    }

    private static boolean ignorable(String key, LlamaConfig c) {
        // Buffers older checkpoints saved, and an lm_head some tied checkpoints still carry.
        return key.endsWith(".rotary_emb.inv_freq") || (c.tieWordEmbeddings() && key.equals("lm_head.weight"));
    }

    public LlamaConfig config() {
        return config;
    }

    /**
     * The weights under their Hugging Face keys, as {@code save_pretrained} writes them ({@code lm_head.weight}
     * omitted when tied), with some projections replaced, in the order of LlamaForCausalLM's {@code state_dict()}
     * (per layer: the projections, then {@code input_layernorm} and {@code post_attention_layernorm}); that order
     * decides how a checkpoint is split into shards. Projections and the embedding come in the type they are held
     * in (16-bit for a 16-bit checkpoint), the norm weights in the compute type.
     *
     * @param replaced module name (e.g. {@code model.layers.0.mlp.up_proj}) → weight {@code [d_out, d_in]}
     */
    public Map<String, INDArray> stateDict(Map<String, INDArray> replaced) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", embedTokens);
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            for (String proj : PROJECTIONS) {
                m.put(p + proj + ".weight", replaced.getOrDefault(p + proj, linears.get(p + proj).storedWeight()));
            }
            m.put(p + "input_layernorm.weight", inputNorm[l]);
            m.put(p + "post_attention_layernorm.weight", postAttentionNorm[l]);
        }
        m.put("model.norm.weight", finalNorm);
        if (!config.tieWordEmbeddings()) {
            m.put("lm_head.weight", linears.get("lm_head").storedWeight());
        }
        return m;
    }

    /** The floating-point type the graph computes in (FLOAT as loaded; 16-bit weights are widened to it). */
    public DataType dataType() {
        return computeType;
    }

    /**
     * These weights with the LM head held in vocabulary blocks of at most {@code maxBlockParameters} parameters (a
     * 16-bit head only; see {@link #HEAD_BLOCK_PARAMETERS}); every other array is shared, not copied.
     */
    public LlamaWeights withHeadBlocks(long maxBlockParameters) {
        Map<String, FrozenLinear> m = new LinkedHashMap<>(linears);
        m.put("lm_head", FrozenLinear.resident("lm_head", linears.get("lm_head").storedWeight(), computeType,
                maxBlockParameters));
        return new LlamaWeights(config, computeType, embedTokens, inputNorm, postAttentionNorm, finalNorm, m);
    }

    /** A copy of these weights in another floating-point type, e.g. DOUBLE for precise numerical checks. */
    public LlamaWeights castTo(DataType type) {
        Map<String, FrozenLinear> cast = new LinkedHashMap<>();
        linears.forEach((k, f) -> cast.put(k, new FrozenLinear(k, f.storedWeight(), type)));
        INDArray[] in = new INDArray[inputNorm.length];
        INDArray[] post = new INDArray[postAttentionNorm.length];
        for (int l = 0; l < in.length; l++) {
            in[l] = inputNorm[l].castTo(type);
            post[l] = postAttentionNorm[l].castTo(type);
        }
        return new LlamaWeights(config, type, embedTokens.castTo(type), in, post, finalNorm.castTo(type), cast);
    }

    /** {@code [V, H]}, in the type it is held in (16-bit for a 16-bit checkpoint, else the compute type). */
    public INDArray embedTokens() {
        return embedTokens;
    }

    /** {@code [H]} */
    public INDArray inputNorm(int layer) {
        return inputNorm[layer];
    }

    /** {@code [H]} */
    public INDArray postAttentionNorm(int layer) {
        return postAttentionNorm[layer];
    }

    /** {@code [H]} */
    public INDArray finalNorm() {
        return finalNorm;
    }

    /** A projection by its Hugging Face module name, e.g. {@code model.layers.0.mlp.up_proj} or {@code lm_head}. */
    public FrozenLinear linear(String moduleName) {
        FrozenLinear f = linears.get(moduleName);
        if (f == null) {
            throw new MorException("the model has no linear layer '" + moduleName + "'");
        }
        return f;
    }

    /** Every projection's module name, in model order. */
    public Set<String> linearNames() {
        return linears.keySet();
    }
}
