package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.mor4j.core.safetensors.StTestSupport.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HalfFloatsTest {

    @Test
    void halfKnownValues() {
        assertEquals(1.0f, HalfFloats.halfToFloat(0x3C00));
        assertEquals(-2.0f, HalfFloats.halfToFloat(0xC000));
        assertEquals(0.333251953125f, HalfFloats.halfToFloat(0x3555));
        assertEquals(65504f, HalfFloats.halfToFloat(0x7BFF)); // largest finite half
        assertEquals(0x1p-14f, HalfFloats.halfToFloat(0x0400)); // smallest normal
        assertEquals(0x1p-24f, HalfFloats.halfToFloat(0x0001)); // smallest subnormal
        assertEquals(0x1.ff8p-15f, HalfFloats.halfToFloat(0x03FF)); // largest subnormal, 1023 * 2^-24
        assertEquals(-0x1p-24f, HalfFloats.halfToFloat(0x8001));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.halfToFloat(0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.halfToFloat(0xFC00));
        assertTrue(Float.isNaN(HalfFloats.halfToFloat(0x7E00)));
        assertTrue(Float.isNaN(HalfFloats.halfToFloat(0x7C01)));
        assertEquals(Float.floatToRawIntBits(0.0f), Float.floatToRawIntBits(HalfFloats.halfToFloat(0x0000)));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(HalfFloats.halfToFloat(0x8000)));
    }

    /** Every one of the 65536 halves against the textbook formula evaluated in double. */
    @Test
    void halfAllBitPatterns() {
        for (int bits = 0; bits < 0x10000; bits++) {
            int sign = bits >>> 15;
            int exponent = (bits >>> 10) & 0x1F;
            int fraction = bits & 0x3FF;
            double expected;
            if (exponent == 31) {
                expected = fraction == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
            } else if (exponent == 0) {
                expected = Math.scalb((double) fraction, -24);
            } else {
                expected = Math.scalb(1024.0 + fraction, exponent - 25);
            }
            if (sign == 1) {
                expected = -expected;
            }
            float actual = HalfFloats.halfToFloat(bits);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(actual), "bits " + Integer.toHexString(bits));
            } else {
                assertEquals(Float.floatToRawIntBits((float) expected), Float.floatToRawIntBits(actual),
                        "bits " + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void bf16KnownValues() {
        assertEquals(1.0f, HalfFloats.bf16ToFloat(0x3F80));
        assertEquals(-2.0f, HalfFloats.bf16ToFloat(0xC000));
        assertEquals(3.140625f, HalfFloats.bf16ToFloat(0x4049));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.bf16ToFloat(0x7F80));
        assertEquals(0x1p-133f, HalfFloats.bf16ToFloat(0x0001)); // subnormal
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(0x7FC0)));
        // only the low 16 bits count
        assertEquals(1.0f, HalfFloats.bf16ToFloat(0xFFFF_3F80));
    }

    @Test
    void roundToBf16HelperIsNearestEven() {
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0)
        assertEquals(1.0f, StTestSupport.roundToBf16(1.0f + 0x1p-8f));
        // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties go to 1 + 2^-6
        assertEquals(1.0f + 0x1p-6f, StTestSupport.roundToBf16(1.0f + 3 * 0x1p-8f));
        assertEquals(1.0f + 0x1p-7f, StTestSupport.roundToBf16(1.0f + 0x1p-8f + 0x1p-20f));
    }

    @Test
    void dtypeSizes() {
        assertEquals(4, DType.F32.byteSize());
        assertEquals(2, DType.F16.byteSize());
        assertEquals(2, DType.BF16.byteSize());
        assertEquals(8, DType.I64.byteSize());
        assertEquals(4, DType.I32.byteSize());
        assertEquals(DType.BF16, DType.parse("BF16", "f.safetensors", "w"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"F64", "U8", "F8_E4M3", "bf16", ""})
    void unknownDtypeNamesFileKeyAndDtype(String name) {
        MorException e = assertThrows(MorException.class, () -> DType.parse(name, "dir/x.safetensors", "w.weight"));
        assertMessage(e, "dir/x.safetensors", "key 'w.weight'", "unsupported dtype '" + name + "'",
                "supported: F32, F16, BF16, I64, I32");
    }
}
