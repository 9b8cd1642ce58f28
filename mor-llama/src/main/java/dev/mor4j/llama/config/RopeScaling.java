package dev.mor4j.llama.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.core.MorException;

/**
 * How the rotary embedding's inverse frequencies are scaled: {@link Type#DEFAULT} (none) or LLaMA 3.1's
 * {@link Type#LLAMA3} scheme, which transformers names {@code rope_type: "llama3"}.
 *
 * <p>LLaMA 3.1 keeps the high frequencies, divides the low ones by {@code factor} and interpolates in between.
 * With {@code f_j = θ^(-2j/d)} the default inverse frequencies, {@code λ_j = 2π / f_j} their wavelengths,
 * {@code L = original_max_position_embeddings}, {@code λ_low = L / low_freq_factor},
 * {@code λ_high = L / high_freq_factor}:
 * <pre>
 *   f'_j = f_j                                  if λ_j &lt; λ_high
 *   f'_j = f_j / factor                         if λ_j &gt; λ_low
 *   f'_j = (1 − s_j) · f_j / factor + s_j · f_j  otherwise, s_j = (L / λ_j − low_freq_factor) / (high_freq_factor − low_freq_factor)
 * </pre>
 * The attention scaling factor of this scheme is 1.
 *
 * @param type                          the scheme
 * @param factor                        how much longer the context is than the original (8 for LLaMA 3.1)
 * @param lowFreqFactor                 1 for LLaMA 3.1
 * @param highFreqFactor                4 for LLaMA 3.1
 * @param originalMaxPositionEmbeddings the pre-training context length L (8192 for LLaMA 3.1)
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
        int originalMaxPositionEmbeddings) {

    /** The rotary schemes this library computes. */
    public enum Type {
        /** {@code inv_freq[j] = θ^(-2j/d)}, unscaled. */
        DEFAULT,
        /** LLaMA 3.1's frequency-dependent scaling ({@code rope_type: "llama3"}). */
        LLAMA3
    }

    /** No scaling. */
    public static final RopeScaling NONE = new RopeScaling(Type.DEFAULT, 1.0, 0.0, 0.0, 0);

    public RopeScaling {
        if (type == Type.LLAMA3) {
            if (!(factor > 0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor)
                    || originalMaxPositionEmbeddings <= 0) {
                throw new IllegalArgumentException("llama3 rope scaling needs factor > 0, 0 < low_freq_factor < "
                        + "high_freq_factor and original_max_position_embeddings > 0; got factor " + factor
                        + ", low_freq_factor " + lowFreqFactor + ", high_freq_factor " + highFreqFactor
                        + ", original_max_position_embeddings " + originalMaxPositionEmbeddings);
            }
        }
    }

    /**
     * Reads the scaling from a config's rope object: transformers 5's {@code rope_parameters} or the older
     * top-level {@code rope_scaling} (which names its type {@code rope_type}, or {@code type} in older files).
     *
     * @param node   the object, or null (no scaling)
     * @param where  the file and field, for messages, e.g. {@code config.json: rope_scaling}
     */
    static RopeScaling fromJson(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return NONE;
        }
        if (!node.isObject()) {
            throw new MorException(where + ": expected an object, got " + node);
        }
        String type = node.has("rope_type") ? node.get("rope_type").asText() : node.path("type").asText("default");
        switch (type) {
            case "default":
                return NONE;
            case "llama3":
                return new RopeScaling(Type.LLAMA3, number(node, "factor", where),
                        number(node, "low_freq_factor", where), number(node, "high_freq_factor", where),
                        (int) number(node, "original_max_position_embeddings", where));
            default:
                throw new MorException(where + ": rope type '" + type + "' is not supported: expected 'default' or"
                        + " 'llama3' (LLaMA 3.1's scaling)");
        }
    }

    private static double number(JsonNode node, String field, String where) {
        JsonNode n = node.get(field);
        if (n == null || !n.isNumber() || !(n.asDouble() > 0)) {
            throw new MorException(where + ": llama3 rope scaling needs a positive number '" + field + "', got "
                    + (n == null ? "nothing" : n.toString()));
        }
        return n.asDouble();
    }

    /**
     * Scales default inverse frequencies in place, in float32 as transformers computes them.
     *
     * @param invFreq {@code [d/2]} the default inverse frequencies
     */
    public void apply(float[] invFreq) {
        if (type == Type.DEFAULT) {
            return;
        }
        float oldLen = originalMaxPositionEmbeddings;
        float lowWavelen = oldLen / (float) lowFreqFactor;
        float highWavelen = oldLen / (float) highFreqFactor;
        float f = (float) factor;
        for (int j = 0; j < invFreq.length; j++) {
            float inv = invFreq[j];
            float wavelen = (float) (2 * Math.PI) / inv;
            float scaled = wavelen > lowWavelen ? inv / f : inv;
            if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
                float smooth = (oldLen / wavelen - (float) lowFreqFactor) / ((float) highFreqFactor - (float) lowFreqFactor);
                scaled = (1 - smooth) * scaled / f + smooth * scaled;
            }
            invFreq[j] = scaled;
        }
    }
}
