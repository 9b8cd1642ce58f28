package dev.mor4j.llama.model;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.config.LlamaConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Every base weight of a LlamaForCausalLM as a trainable array: what full fine-tuning trains, and what pre-training
 * from a {@linkplain LlamaModel#random random} model trains.
 *
 * <p>The arrays are copies of the frozen weights in the compute type (float32: a 16-bit checkpoint's weights are
 * widened, since AdamW's small updates vanish in 16 bits), C-ordered, under their Hugging Face keys and shapes
 * ({@link LlamaWeights#expectedShapes}: projections {@code [d_out, d_in]}, norms {@code [H]}, the embedding
 * {@code [V, H]}, {@code lm_head.weight} {@code [V, H]} only when not tied to the embedding), in the order of
 * LlamaForCausalLM's {@code state_dict()}. The training graph ({@link LlamaGraph#fullTraining}) reads these arrays
 * and the optimizer updates them in place.
 */
public final class TrainableBase {

    private final LlamaConfig config;
    private final Map<String, INDArray> weights; // Hugging Face key → array, state_dict order

    private TrainableBase(LlamaConfig config, Map<String, INDArray> weights) {
        this.config = config;
        this.weights = weights;
    }

    /** Trainable copies of {@code base}'s weights, in its compute type. */
    public static TrainableBase of(LlamaWeights base) {
        DataType type = base.dataType();
        Map<String, INDArray> copies = new LinkedHashMap<>();
        base.stateDict(Map.of()).forEach((key, w) -> copies.put(key, w.castTo(type).dup('c')));
        return new TrainableBase(base.config(), copies);
    }

    /**
     * Given arrays as the trainable weights (held, not copied), checked against {@code config}.
     *
     * @param source names the weights' origin in messages
     * @throws MorException naming every missing, unexpected or mis-shaped key, or an array not in {@code type}
     */
    public static TrainableBase of(LlamaConfig config, Map<String, INDArray> weights, DataType type, String source) {
        check(config, weights, type, source);
        Map<String, INDArray> ordered = new LinkedHashMap<>();
        for (String key : stateDictKeys(config)) {
            ordered.put(key, weights.get(key));
        }
        return new TrainableBase(config, ordered);
    }

    /** The keys in the order of LlamaForCausalLM's {@code state_dict()} (as {@link LlamaWeights#stateDict}). */
    static List<String> stateDictKeys(LlamaConfig config) {
        List<String> keys = new ArrayList<>();
        keys.add("model.embed_tokens.weight");
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            for (String proj : LlamaWeights.PROJECTIONS) {
                keys.add(p + proj + ".weight");
            }
            keys.add(p + "input_layernorm.weight");
            keys.add(p + "post_attention_layernorm.weight");
        }
        keys.add("model.norm.weight");
        if (!config.tieWordEmbeddings()) {
            keys.add("lm_head.weight");
        }
        return keys;
    }

    /**
     * Checks that {@code weights} holds exactly {@link LlamaWeights#expectedShapes}'s keys, each of its shape and of
     * type {@code type}; all problems are reported together.
     */
    static void check(LlamaConfig config, Map<String, INDArray> weights, DataType type, String source) {
        Map<String, long[]> expected = LlamaWeights.expectedShapes(config);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            INDArray a = weights.get(e.getKey());
            if (a == null) {
                problems.add(e.getKey() + ": missing, expected shape " + Arrays.toString(e.getValue()));
            } else if (!Arrays.equals(a.shape(), e.getValue())) {
                problems.add(e.getKey() + ": expected " + Arrays.toString(e.getValue()) + ", got "
                        + Arrays.toString(a.shape()));
            } else if (a.dataType() != type) {
                problems.add(e.getKey() + ": expected " + type + ", got " + a.dataType());
            }
        }
        for (String k : new TreeSet<>(weights.keySet())) {
            if (!expected.containsKey(k)) {
                problems.add(k + ": unexpected key" + (k.equals("lm_head.weight") ? " (the config ties lm_head to the"
                        + " embedding)" : ""));
            }
        }
        if (!problems.isEmpty()) {
            throw new MorException(source + ": the weights do not match the config (" + problems.size() + " problem"
                    + (problems.size() == 1 ? "" : "s") + "):\n  " + String.join("\n  ", problems));
        }
    }

    /** The training graph with the loss, reading these arrays ({@link LlamaGraph#fullTraining}). */
    public LlamaGraph graph(LlamaWeights model) {
        return LlamaGraph.fullTraining(model, weights, true);
    }

    /**
     * Frozen weights holding copies of the current values, for scoring and generation with the model being trained
     * (16-bit when {@code type} is BFLOAT16 or HALF, as a checkpoint of that type would load).
     */
    public LlamaWeights frozen(DataType type) {
        Map<String, long[]> shapes = LlamaWeights.expectedShapes(config);
        return LlamaWeights.load(config, "trained weights", shapes.keySet(), shapes::get,
                key -> weights.get(key).castTo(type).dup('c'));
    }

    public LlamaConfig config() {
        return config;
    }

    /** The arrays by Hugging Face key, in {@code state_dict()} order; training updates them in place. */
    public Map<String, INDArray> weights() {
        return Collections.unmodifiableMap(weights);
    }

    /** Trainable parameters: all of the model's (a tied LM head counted once, as PyTorch counts it). */
    public long parameters() {
        return weights.values().stream().mapToLong(INDArray::length).sum();
    }
}
