package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
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

    /**
     * PyTorch's name of this type, as {@code transformers} writes it in {@code config.json} ({@code "dtype"} or
     * {@code "torch_dtype"}): float32, float16, bfloat16, int64, int32.
     */
    public String torchName() {
        return switch (this) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            case I64 -> "int64";
            case I32 -> "int32";
        };
    }

    /**
     * The floating-point type named as PyTorch names it ({@code float32}, {@code bfloat16}, {@code float16}) or as
     * a safetensors header does ({@code F32}, {@code BF16}, {@code F16}).
     *
     * @throws MorException quoting the name if it is neither
     */
    public static DType floatType(String name) {
        for (DType d : values()) {
            if (d.isFloatingPoint() && (d.torchName().equals(name) || d.name().equals(name))) {
                return d;
            }
        }
        throw new MorException("dtype '" + name + "': expected float32, bfloat16 or float16");
    }

    /**
     * The floating-point type in which most of a checkpoint's parameters are stored (counted in elements, so a
     * float32 norm weight beside bfloat16 matrices does not decide it); a tie goes to the wider type.
     *
     * @throws MorException naming the source if it holds no floating-point tensor
     */
    public static DType mostCommonFloat(TensorSource source) {
        Map<DType, Long> counts = new EnumMap<>(DType.class);
        for (String key : source.keys()) {
            TensorInfo t = source.info(key);
            if (t.dtype().isFloatingPoint()) {
                counts.merge(t.dtype(), t.numel(), Long::sum);
            }
        }
        DType best = null;
        for (DType d : List.of(F32, BF16, F16)) { // widest first: it wins a tie
            if (counts.containsKey(d) && (best == null || counts.get(d) > counts.get(best))) {
                best = d;
            }
        }
        if (best == null) {
            throw new MorException(source.description() + ": holds no floating-point tensor; expected model weights"
                    + " in F32, BF16 or F16");
        }
        return best;
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
