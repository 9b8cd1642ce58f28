package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The safetensors element types this library reads. The name of each constant is the string used in a
 * safetensors header ({@code "dtype": "BF16"}). All data is little-endian.
 */
public enum DType {
    /** IEEE 754 binary32. */
    F32(4),
    /** IEEE 754 binary16 (half precision); upcast to float on reading. */
    F16(2),
    /** bfloat16 (the upper 16 bits of a binary32); upcast to float on reading. */
    BF16(2),
    /** Signed 64-bit integer. */
    I64(8),
    /** Signed 32-bit integer; widened to long on reading. */
    I32(4);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for F32, F16 and BF16. */
    public boolean isFloatingPoint() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The supported dtype names, comma separated, for messages. */
    public static String supportedNames() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }

    /**
     * Parses a header dtype string (case-sensitive, as the format defines it).
     *
     * @param name  the dtype string from the header, e.g. {@code "F32"}
     * @param where the file (or other source) being read, for the message
     * @param key   the tensor key the dtype belongs to, for the message
     * @throws MorException naming {@code where}, {@code key} and the dtype if it is not supported
     */
    public static DType parse(String name, String where, String key) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        throw new MorException(where + ": key '" + key + "': unsupported dtype '" + name
                + "' (supported: " + supportedNames() + ")");
    }
}
