package dev.mor4j.bench;

import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.TensorSpec;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The architecture of a LLaMA checkpoint to generate: the numbers of its {@code config.json}, the tensors they
 * imply, and the tokenizer that goes with it. {@link #llama2_7b()} and {@link #llama3_8b()} are the published
 * models' shapes (Llama-3 with Llama-3.1's rotary scaling); {@link #withLayers} shortens either for quick runs.
 *
 * @param name              the preset's name on the command line, e.g. {@code llama2-7b}
 * @param hidden            hidden size H
 * @param intermediate      MLP width I
 * @param layers            decoder layers L
 * @param heads             attention heads (head_dim = H / heads)
 * @param kvHeads           key/value heads
 * @param vocab             vocabulary size V
 * @param ropeTheta         rotary base
 * @param ropeScalingJson   {@code rope_scaling} as a JSON object with sorted keys, or null for none
 * @param maxPositions      {@code max_position_embeddings}
 * @param bos               BOS token id
 * @param eos               EOS token ids (one is written as a number, several as a list)
 * @param tokenizer         the directory under {@code testdata/tokenizers} with the matching tokenizer files
 */
public record CheckpointShape(String name, int hidden, int intermediate, int layers, int heads, int kvHeads, int vocab,
        double ropeTheta, String ropeScalingJson, int maxPositions, int bos, List<Integer> eos, String tokenizer) {

    /** RMSNorm epsilon of both presets. */
    public static final double RMS_NORM_EPS = 1e-5;
    /** The stored dtype of both presets. */
    public static final DType DTYPE = DType.BF16;

    public CheckpointShape {
        eos = List.copyOf(eos);
    }

    /** LLaMA-2-7B: 32 layers, hidden 4096, MLP 11008, 32 heads (no GQA), vocabulary 32000, 4096 positions. */
    public static CheckpointShape llama2_7b() {
        return new CheckpointShape("llama2-7b", 4096, 11008, 32, 32, 32, 32000, 10000.0, null, 4096, 1, List.of(2),
                "sp-bpe-32k");
    }

    /**
     * LLaMA-3-8B as Llama-3.1 ships it: 32 layers, hidden 4096, MLP 14336, 32 heads and 8 key/value heads,
     * vocabulary 128256, rope theta 500000 with the {@code llama3} rotary scaling (factor 8 from 8192 positions)
     * and 131072 positions, BOS 128000, EOS 128001/128008/128009.
     */
    public static CheckpointShape llama3_8b() {
        String scaling = "{\n    \"factor\": 8.0,\n    \"high_freq_factor\": 4.0,\n    \"low_freq_factor\": 1.0,\n"
                + "    \"original_max_position_embeddings\": 8192,\n    \"rope_type\": \"llama3\"\n  }";
        return new CheckpointShape("llama3-8b", 4096, 14336, 32, 32, 8, 128256, 500000.0, scaling, 131072, 128000,
                List.of(128001, 128008, 128009), "llama3");
    }

    /** The preset called {@code name}, or null. */
    public static CheckpointShape preset(String name) {
        return switch (name) {
            case "llama2-7b" -> llama2_7b();
            case "llama3-8b" -> llama3_8b();
            default -> null;
        };
    }

    /** The same shape with {@code n} decoder layers. */
    public CheckpointShape withLayers(int n) {
        return new CheckpointShape(name, hidden, intermediate, n, heads, kvHeads, vocab, ropeTheta, ropeScalingJson,
                maxPositions, bos, eos, tokenizer);
    }

    /** Per-head width: {@code hidden / heads}. */
    public int headDim() {
        return hidden / heads;
    }

    /**
     * Every tensor, in LlamaForCausalLM's {@code state_dict()} order (which decides the shard split), in
     * {@link #DTYPE}: the embedding {@code [V, H]}; per layer q {@code [H, H]}, k and v {@code [kv·d, H]}, o
     * {@code [H, H]}, gate and up {@code [I, H]}, down {@code [H, I]}, the two norms {@code [H]}; the final norm
     * {@code [H]}; lm_head {@code [V, H]} (untied).
     */
    public List<TensorSpec> tensors() {
        long h = hidden;
        long kv = (long) kvHeads * headDim();
        List<TensorSpec> t = new ArrayList<>();
        t.add(new TensorSpec("model.embed_tokens.weight", DTYPE, new long[] {vocab, h}));
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            t.add(new TensorSpec(p + "self_attn.q_proj.weight", DTYPE, new long[] {h, h}));
            t.add(new TensorSpec(p + "self_attn.k_proj.weight", DTYPE, new long[] {kv, h}));
            t.add(new TensorSpec(p + "self_attn.v_proj.weight", DTYPE, new long[] {kv, h}));
            t.add(new TensorSpec(p + "self_attn.o_proj.weight", DTYPE, new long[] {h, h}));
            t.add(new TensorSpec(p + "mlp.gate_proj.weight", DTYPE, new long[] {intermediate, h}));
            t.add(new TensorSpec(p + "mlp.up_proj.weight", DTYPE, new long[] {intermediate, h}));
            t.add(new TensorSpec(p + "mlp.down_proj.weight", DTYPE, new long[] {h, intermediate}));
            t.add(new TensorSpec(p + "input_layernorm.weight", DTYPE, new long[] {h}));
            t.add(new TensorSpec(p + "post_attention_layernorm.weight", DTYPE, new long[] {h}));
        }
        t.add(new TensorSpec("model.norm.weight", DTYPE, new long[] {h}));
        t.add(new TensorSpec("lm_head.weight", DTYPE, new long[] {vocab, h}));
        return t;
    }

    /** {@code config.json} as transformers 4's {@code save_pretrained} lays it out (sorted keys, indent 2). */
    public String configJson() {
        return "{\n"
                + "  \"architectures\": [\n    \"LlamaForCausalLM\"\n  ],\n"
                + "  \"attention_bias\": false,\n"
                + "  \"attention_dropout\": 0.0,\n"
                + "  \"bos_token_id\": " + bos + ",\n"
                + "  \"eos_token_id\": " + eosJson() + ",\n"
                + "  \"hidden_act\": \"silu\",\n"
                + "  \"hidden_size\": " + hidden + ",\n"
                + "  \"initializer_range\": 0.02,\n"
                + "  \"intermediate_size\": " + intermediate + ",\n"
                + "  \"max_position_embeddings\": " + maxPositions + ",\n"
                + "  \"mlp_bias\": false,\n"
                + "  \"model_type\": \"llama\",\n"
                + "  \"num_attention_heads\": " + heads + ",\n"
                + "  \"num_hidden_layers\": " + layers + ",\n"
                + "  \"num_key_value_heads\": " + kvHeads + ",\n"
                + "  \"pretraining_tp\": 1,\n"
                + "  \"rms_norm_eps\": " + pythonFloat(RMS_NORM_EPS) + ",\n"
                + "  \"rope_scaling\": " + (ropeScalingJson == null ? "null" : ropeScalingJson) + ",\n"
                + "  \"rope_theta\": " + pythonFloat(ropeTheta) + ",\n"
                + "  \"tie_word_embeddings\": false,\n"
                + "  \"torch_dtype\": \"" + DTYPE.torchName() + "\",\n"
                + "  \"use_cache\": true,\n"
                + "  \"vocab_size\": " + vocab + "\n"
                + "}\n";
    }

    /** {@code generation_config.json} with the published models' sampling defaults (temperature 0.6, top-p 0.9). */
    public String generationConfigJson() {
        return "{\n"
                + "  \"bos_token_id\": " + bos + ",\n"
                + "  \"do_sample\": true,\n"
                + "  \"eos_token_id\": " + eosJson() + ",\n"
                + "  \"max_length\": " + maxPositions + ",\n"
                + "  \"temperature\": 0.6,\n"
                + "  \"top_p\": 0.9\n"
                + "}\n";
    }

    private String eosJson() {
        return eos.size() == 1 ? eos.get(0).toString()
                : eos.stream().map(i -> "\n    " + i).collect(Collectors.joining(",", "[", "\n  ]"));
    }

    /** A double as Python's {@code repr} writes it: {@code 1e-05}, {@code 10000.0}, {@code 0.02}. */
    static String pythonFloat(double v) {
        BigDecimal d = new BigDecimal(Double.toString(v)).stripTrailingZeros();
        int exponent = d.precision() - d.scale() - 1; // of the leading digit
        if (v == 0 || (exponent >= -4 && exponent < 16)) {
            String plain = d.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = d.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (v < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+")
                + String.format("%02d", Math.abs(exponent));
    }
}
