package dev.mor4j.core.safetensors;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * float → BF16 and float → F16 against round-to-nearest-even taken from its definition: of the two 16-bit
 * values around x (F16: found by binary search over the values of all halves; BF16: x's float with its low 16
 * bits cleared, and the next pattern), the nearer one by value wins, a tie goes to the one with an even last
 * bit, and a value at or beyond the midpoint between the largest finite value and the next power of two becomes
 * infinity.
 */
class HalfFloatsRoundingTest {

    /** Values of the non-negative finite halves 0x0000..0x7BFF, then 2^16 standing for the step to infinity. */
    private static final double[] HALF_LADDER = halfLadder();

    private static double[] halfLadder() {
        double[] v = new double[0x7C01];
        for (int h = 0; h < 0x7C00; h++) {
            v[h] = HalfFloats.halfToFloat(h); // checked against the textbook formula in HalfFloatsTest
        }
        v[0x7C00] = 65536.0; // the next value the format would have; rounding to it means infinity
        return v;
    }

    /** Round to nearest even, by value, over an increasing ladder of candidates indexed by their bit patterns. */
    private static int nearestEven(double[] ladder, double magnitude) {
        int i = Arrays.binarySearch(ladder, magnitude);
        if (i >= 0) {
            return i;
        }
        int below = -i - 2; // ladder[below] < magnitude < ladder[below + 1]
        double dBelow = magnitude - ladder[below]; // exact: both are floats with few significant bits
        double dAbove = ladder[below + 1] - magnitude;
        if (dBelow != dAbove) {
            return dBelow < dAbove ? below : below + 1;
        }
        return (below & 1) == 0 ? below : below + 1;
    }

    private static short referenceHalf(float x) {
        if (Float.isNaN(x)) {
            return (short) ((Float.floatToRawIntBits(x) >>> 16 & 0x8000) | 0x7E00);
        }
        int sign = (Float.floatToRawIntBits(x) >>> 16) & 0x8000;
        double m = Math.abs((double) x);
        int bits = m >= 65536.0 ? 0x7C00 : nearestEven(HALF_LADDER, m);
        return (short) (sign | bits);
    }

    private static short referenceBf16(float x) {
        if (Float.isNaN(x)) {
            return 0x7FC0;
        }
        int sign = (Float.floatToRawIntBits(x) >>> 16) & 0x8000;
        double m = Math.abs((double) x);
        if (Double.isInfinite(m)) {
            return (short) (sign | 0x7F80);
        }
        // the neighbours: the largest bfloat16 at or below m (the float with its low 16 bits cleared) and the
        // pattern after it, whose value is 2^128 (the step to infinity) after the largest finite one
        int low = (Float.floatToRawIntBits((float) m) >>> 16) & 0x7FFF;
        double[] pair = {HalfFloats.bf16ToFloat(low), low + 1 == 0x7F80 ? 0x1p128 : HalfFloats.bf16ToFloat(low + 1)};
        double dLow = m - pair[0]; // exact: floats within a factor of two of each other
        double dHigh = pair[1] - m;
        int pick = dLow < dHigh ? low : dHigh < dLow ? low + 1 : (low & 1) == 0 ? low : low + 1;
        return (short) (sign | pick);
    }

    @Test
    void knownValuesAsPyTorchGivesThem() {
        // torch.tensor(0.1).bfloat16(), .half(); 1/3; the largest finite values and the first that overflow
        assertEquals((short) 0x3DCD, HalfFloats.floatToBf16(0.1f));
        assertEquals((short) 0x2E66, HalfFloats.floatToHalf(0.1f));
        assertEquals((short) 0x3EAB, HalfFloats.floatToBf16(1f / 3));
        assertEquals((short) 0x3555, HalfFloats.floatToHalf(1f / 3));
        assertEquals((short) 0x7BFF, HalfFloats.floatToHalf(65504f));
        assertEquals((short) 0x7BFF, HalfFloats.floatToHalf(65519.996f));
        assertEquals((short) 0x7C00, HalfFloats.floatToHalf(65520f));
        assertEquals((short) 0xFC00, HalfFloats.floatToHalf(-1e6f));
        assertEquals((short) 0x0001, HalfFloats.floatToHalf(0x1p-24f));
        assertEquals((short) 0x0000, HalfFloats.floatToHalf(0x1p-25f)); // a tie between 0 and 2^-24: even is 0
        assertEquals((short) 0x0002, HalfFloats.floatToHalf(0x1.4p-23f)); // 2.5 units of 2^-24: tie, even is 2
        assertEquals((short) 0x0400, HalfFloats.floatToHalf(0x1.ffcp-15f)); // rounds up to the smallest normal
        assertEquals((short) 0x8000, HalfFloats.floatToHalf(-0.0f));
        assertEquals((short) 0x7F7F, HalfFloats.floatToBf16(Float.intBitsToFloat(0x7F7F7FFF)));
        assertEquals((short) 0x7F80, HalfFloats.floatToBf16(Float.MAX_VALUE));
        assertEquals((short) 0x3F80, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F808000))); // tie to even
        assertEquals((short) 0x3F82, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F818000))); // tie to even
        assertEquals((short) 0x7FC0, HalfFloats.floatToBf16(Float.NaN));
        assertEquals((short) 0x7E00, HalfFloats.floatToHalf(Float.NaN));
        assertEquals((short) 0xFF80, HalfFloats.floatToBf16(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x7C00, HalfFloats.floatToHalf(Float.POSITIVE_INFINITY));
    }

    @Test
    void randomFloatsOverEveryExponentMatchTheReference() {
        SplittableRandom rnd = new SplittableRandom(20);
        for (int i = 0; i < 2_000_000; i++) {
            float x = Float.intBitsToFloat(rnd.nextInt());
            check(x);
        }
    }

    @Test
    void valuesNearHalfRangeAndTiesMatchTheReference() {
        SplittableRandom rnd = new SplittableRandom(21);
        for (int i = 0; i < 1_000_000; i++) {
            // magnitudes 2^-26 .. 2^17: subnormal halves, normal halves and overflow
            float x = (float) Math.scalb(rnd.nextDouble(1.0, 2.0), rnd.nextInt(-26, 18));
            check(rnd.nextBoolean() ? x : -x);
        }
        // every midpoint between neighbouring halves, and each neighbour, is a float: the ties and their edges
        for (int h = 0; h < 0x7C00; h++) {
            float mid = (float) ((HALF_LADDER[h] + HALF_LADDER[h + 1]) / 2);
            check(mid);
            check(-mid);
            check(Math.nextUp(mid));
            check(Math.nextDown(mid));
        }
        // bfloat16 midpoints: float bit patterns ending in 0x8000, and their neighbours
        for (int i = 0; i < 200_000; i++) {
            int tie = (rnd.nextInt() & 0xFFFF_0000) | 0x8000;
            check(Float.intBitsToFloat(tie));
            check(Float.intBitsToFloat(tie + 1));
            check(Float.intBitsToFloat(tie - 1));
        }
    }

    private static void check(float x) {
        assertEquals(referenceHalf(x), HalfFloats.floatToHalf(x), () -> "F16 of " + x + " (bits 0x"
                + Integer.toHexString(Float.floatToRawIntBits(x)) + ")");
        assertEquals(referenceBf16(x), HalfFloats.floatToBf16(x), () -> "BF16 of " + x + " (bits 0x"
                + Integer.toHexString(Float.floatToRawIntBits(x)) + ")");
    }
}
