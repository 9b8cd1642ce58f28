package dev.mor4j.llama.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.DType;

/**
 * A {@code config.json} for a {@link LlamaConfig}, as transformers' {@code LlamaConfig.save_pretrained} writes one
 * (transformers 4 field names, which transformers 5 also reads): for a model that has no directory to copy it from,
 * such as one initialised at random. {@link LlamaConfig#fromJson} reads it back to an equal config.
 */
public final class ConfigJson {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ConfigJson() {
    }

    /**
     * The text of {@code config.json}.
     *
     * @param dtype the weights' stored type, written as {@code torch_dtype}
     */
    public static String of(LlamaConfig c, DType dtype) {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add("LlamaForCausalLM");
        n.put("model_type", "llama");
        n.put("hidden_size", c.hiddenSize());
        n.put("intermediate_size", c.intermediateSize());
        n.put("num_hidden_layers", c.numHiddenLayers());
        n.put("num_attention_heads", c.numAttentionHeads());
        n.put("num_key_value_heads", c.numKeyValueHeads());
        n.put("head_dim", c.headDim());
        n.put("hidden_act", "silu");
        n.put("rms_norm_eps", c.rmsNormEps());
        n.put("rope_theta", c.ropeTheta());
        RopeScaling rs = c.ropeScaling();
        if (rs.type() == RopeScaling.Type.LLAMA3) {
            ObjectNode r = n.putObject("rope_scaling");
            r.put("rope_type", "llama3");
            r.put("factor", rs.factor());
            r.put("low_freq_factor", rs.lowFreqFactor());
            r.put("high_freq_factor", rs.highFreqFactor());
            r.put("original_max_position_embeddings", rs.originalMaxPositionEmbeddings());
        }
        n.put("max_position_embeddings", c.maxPositionEmbeddings());
        n.put("vocab_size", c.vocabSize());
        n.put("tie_word_embeddings", c.tieWordEmbeddings());
        n.put("attention_bias", false);
        n.put("mlp_bias", false);
        if (c.bosTokenId() != null) {
            n.put("bos_token_id", c.bosTokenId());
        }
        if (c.eosTokenIds().size() == 1) {
            n.put("eos_token_id", c.eosTokenIds().get(0));
        } else if (!c.eosTokenIds().isEmpty()) {
            ArrayNode eos = n.putArray("eos_token_id");
            c.eosTokenIds().forEach(eos::add);
        }
        n.put("torch_dtype", dtype.torchName());
        try {
            return JSON.writeValueAsString(n) + "\n";
        } catch (JsonProcessingException e) {
            throw new MorException("config.json: cannot be written: " + e.getMessage(), e);
        }
    }
}
