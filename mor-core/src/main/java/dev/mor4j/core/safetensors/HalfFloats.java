package dev.mor4j.core.safetensors;

/**
 * Exact conversions from the 16-bit float formats to {@code float} (Java 17 has no
 * {@code Float.float16ToFloat}). Every F16 and BF16 value is exactly representable as a float.
 */
public final class HalfFloats {

    private HalfFloats() {
    }

    /**
     * IEEE 754 binary16 to float: sign, 5-bit exponent (bias 15), 10-bit fraction. Handles zeros,
     * subnormals (exponent 0), infinities and NaN (exponent 31; the NaN payload is kept).
     *
     * @param bits the half in the low 16 bits; higher bits are ignored
     */
    public static float halfToFloat(int bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int fraction = bits & 0x3FF;
        if (exponent == 0x1F) {
            // infinity (fraction 0) or NaN; the fraction becomes the top of the float's fraction
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (fraction << 13));
        }
        if (exponent == 0) {
            // zero or subnormal: fraction * 2^-24, exact in float
            float magnitude = fraction * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        // normal: rebias the exponent from 15 to 127
        return Float.intBitsToFloat(sign | ((exponent + (127 - 15)) << 23) | (fraction << 13));
    }

    /**
     * bfloat16 to float: a bfloat16 is the upper half of a float's bit pattern.
     *
     * @param bits the bfloat16 in the low 16 bits; higher bits are ignored
     */
    public static float bf16ToFloat(int bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }
}
