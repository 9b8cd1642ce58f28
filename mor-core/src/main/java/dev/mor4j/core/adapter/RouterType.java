package dev.mor4j.core.adapter;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.mor4j.core.MorException;
import java.util.Arrays;
import java.util.Locale;

/** How MoR and MoELoRA weigh their experts for each token. */
public enum RouterType {
    /** Learnable per-token softmax over {@code W_r x} (the default). */
    SOFTMAX,
    /** Mean pooling: every expert gets weight 1/N; no router weights are trained. */
    MEAN,
    /** Softmax plus a Switch-Transformer load-balancing auxiliary loss added to the training loss. */
    BALANCED,
    /** Softmax, then only the k largest weights kept and renormalised to sum to 1. */
    TOPK;

    @JsonValue
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static RouterType parse(String s) {
        for (RouterType t : values()) {
            if (t.jsonName().equalsIgnoreCase(s)) {
                return t;
            }
        }
        throw new MorException("unknown router '" + s + "': expected one of "
                + Arrays.toString(Arrays.stream(values()).map(RouterType::jsonName).toArray()));
    }
}
