package dev.mor4j.core.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.mor4j.core.MorException;
import java.util.Arrays;
import java.util.Locale;

/** The learning-rate schedules of Hugging Face's {@code lr_scheduler_type}, by the same names. */
public enum LrSchedulerType {
    /** Linear warmup from 0, then linear decay to 0 ({@code get_linear_schedule_with_warmup}). */
    LINEAR,
    /** Linear warmup from 0, then half a cosine down to 0 ({@code get_cosine_schedule_with_warmup}). */
    COSINE,
    /** The base rate at every step, no warmup ({@code get_constant_schedule}). */
    CONSTANT,
    /** Linear warmup from 0, then the base rate ({@code get_constant_schedule_with_warmup}). */
    CONSTANT_WITH_WARMUP;

    @JsonValue
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static LrSchedulerType parse(String s) {
        for (LrSchedulerType t : values()) {
            if (t.jsonName().equalsIgnoreCase(s)) {
                return t;
            }
        }
        throw new MorException("unknown lr_scheduler '" + s + "': expected one of "
                + Arrays.toString(Arrays.stream(values()).map(LrSchedulerType::jsonName).toArray()));
    }
}
