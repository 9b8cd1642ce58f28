package dev.mor4j.llama.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The fields of a Hugging Face LLaMA {@code config.json} that the model needs.
 *
 * <p>Reads both layouts: transformers 5 keeps rope theta in {@code rope_parameters.rope_theta},
 * transformers 4 in a top-level {@code rope_theta} (absent means 10000). Features this implementation
 * does not compute (attention or MLP bias, rope scaling other than the default and LLaMA 3.1's {@code llama3},
 * another model type or activation) are refused with a message naming them, rather than silently computing
 * something else. Rope scaling is read from {@code rope_parameters} (transformers 5) or the top-level
 * {@code rope_scaling} (transformers 4).
 *
 * @param hiddenSize         H
 * @param intermediateSize   the MLP width
 * @param numHiddenLayers    L
 * @param numAttentionHeads  query heads
 * @param numKeyValueHeads   key/value heads (grouped-query attention); defaults to the query heads
 * @param headDim            per-head width; defaults to H / heads
 * @param rmsNormEps         RMSNorm epsilon
 * @param ropeTheta          rotary base
 * @param tieWordEmbeddings  lm_head shares the embedding matrix
 * @param vocabSize          V
 * @param maxPositionEmbeddings longest sequence the model accepts (positions 0 … max − 1)
 * @param bosTokenId         may be null
 * @param eosTokenIds        may be empty
 * @param ropeScaling        how the rotary frequencies are scaled ({@link RopeScaling#NONE} for the default)
 */
public record LlamaConfig(
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        int vocabSize,
        int maxPositionEmbeddings,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        RopeScaling ropeScaling) {

    private static final Set<String> MODEL_TYPES = Set.of("llama", "mistral");

    public LlamaConfig {
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new MorException("config.json: num_attention_heads (" + numAttentionHeads
                    + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
        }
        if (headDim % 2 != 0) {
            throw new MorException("config.json: head_dim must be even for rotary embeddings, got " + headDim);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
        ropeScaling = ropeScaling == null ? RopeScaling.NONE : ropeScaling;
    }

    /** A config with the default (unscaled) rotary embedding. */
    public LlamaConfig(int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
            int numKeyValueHeads, int headDim, double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings,
            int vocabSize, int maxPositionEmbeddings, Integer bosTokenId, List<Integer> eosTokenIds) {
        this(hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim, rmsNormEps,
                ropeTheta, tieWordEmbeddings, vocabSize, maxPositionEmbeddings, bosTokenId, eosTokenIds,
                RopeScaling.NONE);
    }

    /** Loads {@code config.json} from a model directory (or the file itself). */
    public static LlamaConfig load(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("config.json") : dirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new MorException(file + ": not found (a model directory must hold config.json)");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new MorException(file + ": not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new MorException(file + ": expected a JSON object");
        }
        return fromJson(root, file.toString());
    }

    /** Parses a config.json tree; {@code source} names the file in messages. */
    public static LlamaConfig fromJson(JsonNode root, String source) {
        Fields f = new Fields(root, source);
        String modelType = f.optText("model_type", "llama");
        if (!MODEL_TYPES.contains(modelType)) {
            throw new MorException(source + ": model_type '" + modelType + "' is not supported: expected one of "
                    + MODEL_TYPES + " (the LLaMA architecture)");
        }
        f.refuseTrue("attention_bias", "attention projections with bias");
        f.refuseTrue("mlp_bias", "MLP projections with bias");
        String act = f.optText("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new MorException(source + ": hidden_act '" + act + "' is not supported: expected 'silu'");
        }
        if (root.hasNonNull("sliding_window") && !root.get("sliding_window").isNull()) {
            throw new MorException(source + ": sliding_window attention is not supported");
        }
        int hidden = f.reqInt("hidden_size");
        int heads = f.reqInt("num_attention_heads");
        int kvHeads = f.optInt("num_key_value_heads", heads);
        int headDim = f.optInt("head_dim", hidden / heads);
        double theta = ropeTheta(root, source);
        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = root.get("eos_token_id");
        if (eosNode != null && eosNode.isArray()) {
            eosNode.forEach(n -> eos.add(n.asInt()));
        } else if (eosNode != null && eosNode.canConvertToInt()) {
            eos.add(eosNode.asInt());
        }
        JsonNode bos = root.get("bos_token_id");
        return new LlamaConfig(hidden, f.reqInt("intermediate_size"), f.reqInt("num_hidden_layers"), heads,
                kvHeads, headDim, f.reqDouble("rms_norm_eps"), theta,
                root.path("tie_word_embeddings").asBoolean(false), f.reqInt("vocab_size"),
                f.optInt("max_position_embeddings", 4096),
                bos != null && bos.canConvertToInt() ? bos.asInt() : null, eos, ropeScaling(root, source));
    }

    private static double ropeTheta(JsonNode root, String source) {
        JsonNode params = root.get("rope_parameters");
        if (params != null && params.has("rope_theta")) {
            return params.get("rope_theta").asDouble();
        }
        if (root.has("rope_theta")) {
            return root.get("rope_theta").asDouble();
        }
        return 10000.0;
    }

    /** transformers 5's {@code rope_parameters} wins over the older top-level {@code rope_scaling}. */
    private static RopeScaling ropeScaling(JsonNode root, String source) {
        JsonNode params = root.get("rope_parameters");
        if (params != null && !params.isNull()) {
            return RopeScaling.fromJson(params, source + ": rope_parameters");
        }
        return RopeScaling.fromJson(root.get("rope_scaling"), source + ": rope_scaling");
    }

    public int kvGroups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** Reads typed fields with messages that name the file and the field. */
    private record Fields(JsonNode root, String source) {
        int reqInt(String name) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                throw new MorException(source + ": missing required field '" + name + "' (an integer)");
            }
            if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() <= 0) {
                throw new MorException(source + ": field '" + name + "' must be a positive integer, got " + n);
            }
            return n.asInt();
        }

        int optInt(String name, int dflt) {
            JsonNode n = root.get(name);
            return n == null || n.isNull() ? dflt : reqInt(name);
        }

        double reqDouble(String name) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                throw new MorException(source + ": missing required field '" + name + "' (a number)");
            }
            if (!n.isNumber()) {
                throw new MorException(source + ": field '" + name + "' must be a number, got " + n);
            }
            return n.asDouble();
        }

        String optText(String name, String dflt) {
            JsonNode n = root.get(name);
            return n == null || n.isNull() ? dflt : n.asText();
        }

        void refuseTrue(String name, String what) {
            if (root.path(name).asBoolean(false)) {
                throw new MorException(source + ": " + name + "=true (" + what + ") is not supported");
            }
        }
    }
}
