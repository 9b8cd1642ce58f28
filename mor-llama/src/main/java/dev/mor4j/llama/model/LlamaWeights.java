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

/**
 * The frozen weights of a LlamaForCausalLM, checked against its config: every expected key present with
 * its expected shape, no unexpected keys. All problems are reported together in one message.
 */
public final class LlamaWeights {

    /** Projections of one decoder layer, in Hugging Face's order and naming. */
    public static final List<String> PROJECTIONS =
            List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");

    private final LlamaConfig config;
    private final INDArray embedTokens; // [V, H]
    private final INDArray[] inputNorm; // L × [H]
    private final INDArray[] postAttentionNorm; // L × [H]
    private final INDArray finalNorm; // [H]
    private final Map<String, FrozenLinear> linears; // "model.layers.{l}.{proj}" and "lm_head"

    private LlamaWeights(LlamaConfig config, INDArray embedTokens, INDArray[] inputNorm, INDArray[] postAttentionNorm,
            INDArray finalNorm, Map<String, FrozenLinear> linears) {
        this.config = config;
        this.embedTokens = embedTokens;
        this.inputNorm = inputNorm;
        this.postAttentionNorm = postAttentionNorm;
        this.finalNorm = finalNorm;
        this.linears = linears;
    }

    private LlamaWeights(LlamaConfig config, Map<String, INDArray> w) {
        this.config = config;
        int layers = config.numHiddenLayers();
        this.embedTokens = w.get("model.embed_tokens.weight");
        this.inputNorm = new INDArray[layers];
        this.postAttentionNorm = new INDArray[layers];
        this.linears = new LinkedHashMap<>();
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            inputNorm[l] = w.get(p + "input_layernorm.weight");
            postAttentionNorm[l] = w.get(p + "post_attention_layernorm.weight");
            for (String proj : PROJECTIONS) {
                linears.put(p + proj, new FrozenLinear(p + proj, w.get(p + proj + ".weight")));
            }
        }
        this.finalNorm = w.get("model.norm.weight");
        INDArray head = config.tieWordEmbeddings() ? embedTokens : w.get("lm_head.weight");
        linears.put("lm_head", new FrozenLinear("lm_head", head));
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
     * @param load      loads a key as a FLOAT array
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
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (String k : expected.keySet()) {
            w.put(k, load.apply(k));
        }
        return new LlamaWeights(config, w);
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
     * decides how a checkpoint is split into shards.
     *
     * @param replaced module name (e.g. {@code model.layers.0.mlp.up_proj}) → weight {@code [d_out, d_in]}
     */
    public Map<String, INDArray> stateDict(Map<String, INDArray> replaced) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", embedTokens);
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            for (String proj : PROJECTIONS) {
                m.put(p + proj + ".weight", replaced.getOrDefault(p + proj, linears.get(p + proj).weight()));
            }
            m.put(p + "input_layernorm.weight", inputNorm[l]);
            m.put(p + "post_attention_layernorm.weight", postAttentionNorm[l]);
        }
        m.put("model.norm.weight", finalNorm);
        if (!config.tieWordEmbeddings()) {
            m.put("lm_head.weight", linears.get("lm_head").weight());
        }
        return m;
    }

    /** The floating-point type the weights are held (and the graph computes) in; FLOAT as loaded. */
    public DataType dataType() {
        return embedTokens.dataType();
    }

    /** A copy of these weights in another floating-point type, e.g. DOUBLE for precise numerical checks. */
    public LlamaWeights castTo(DataType type) {
        Map<String, FrozenLinear> cast = new LinkedHashMap<>();
        linears.forEach((k, f) -> cast.put(k, new FrozenLinear(k, f.weight(), type)));
        INDArray[] in = new INDArray[inputNorm.length];
        INDArray[] post = new INDArray[postAttentionNorm.length];
        for (int l = 0; l < in.length; l++) {
            in[l] = inputNorm[l].castTo(type);
            post[l] = postAttentionNorm[l].castTo(type);
        }
        return new LlamaWeights(config, embedTokens.castTo(type), in, post, finalNorm.castTo(type), cast);
    }

    /** {@code [V, H]} */
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
