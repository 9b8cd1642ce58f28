package dev.mor4j.core.safetensors;

/**
 * Conversions between {@code float} and the 16-bit float formats (Java 17 has no {@code Float.float16ToFloat}).
 * Every F16 and BF16 value is exactly representable as a float, so widening is exact; narrowing rounds to the
 * nearest value, ties to even, as PyTorch's {@code tensor.to(torch.bfloat16)} and {@code .half()} do.
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

    /**
     * float to bfloat16, rounding to nearest with ties to even (PyTorch's {@code round_to_nearest_even}): the
     * upper 16 bits after adding {@code 0x7FFF} plus the lowest kept bit. Finite values beyond the largest
     * bfloat16 become infinities; every NaN becomes {@code 0x7FC0}, as PyTorch's scalar conversion returns.
     *
     * @return the bfloat16 bits
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return 0x7FC0;
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /**
     * float to IEEE 754 binary16, rounding to nearest with ties to even (as PyTorch's {@code c10::Half} does):
     * magnitudes from 65520 up become infinities, those below 2^-14 become subnormals (multiples of 2^-24) or
     * zero; the sign is kept, also for zero. NaN becomes {@code sign | 0x7E00}, as in PyTorch.
     *
     * @return the half's bits
     */
    public static short floatToHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int magnitude = bits & 0x7FFF_FFFF;
        if (magnitude > 0x7F80_0000) {
            return (short) (sign | 0x7E00);
        }
        if (magnitude >= 0x4780_0000) {
            // |value| >= 2^16 (or infinite): beyond every finite half
            return (short) (sign | 0x7C00);
        }
        if (magnitude < 0x3880_0000) {
            // |value| < 2^-14: a subnormal half (or zero, or 0x0400 when it rounds up to the smallest normal).
            // Scaling by 2^24 is exact and rint rounds half to even.
            int units = (int) Math.rint(Float.intBitsToFloat(magnitude) * 0x1p24f);
            return (short) (sign | units);
        }
        // normal: rebias the exponent from 127 to 15, keep 10 of the 23 fraction bits, round the 13 dropped ones
        int half = ((((magnitude >>> 23) - 127 + 15) << 10) | ((magnitude >>> 13) & 0x3FF));
        int dropped = magnitude & 0x1FFF;
        if (dropped > 0x1000 || (dropped == 0x1000 && (half & 1) == 1)) {
            half++; // a carry out of the fraction raises the exponent; out of exponent 30 it gives infinity
        }
        return (short) (sign | half);
    }
}
