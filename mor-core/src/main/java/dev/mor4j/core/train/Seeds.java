package dev.mor4j.core.train;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Random generators derived from a seed and coordinates such as the step, so that the trainer keeps no
 * hidden random state: a run resumed at step {@code k} draws exactly what an uninterrupted run draws there.
 *
 * <p>Coordinates are folded into one 64-bit value with SplitMix64's finaliser, and that value seeds a
 * {@link SplittableRandom}. Both are specified bit for bit by the JDK, so the values drawn are the same on
 * every platform and backend.
 */
public final class Seeds {

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private Seeds() {
    }

    /** One well-mixed 64-bit value from a seed and coordinates; different coordinate lists give unrelated values. */
    public static long derive(long seed, long... coordinates) {
        long h = mix(seed + GOLDEN);
        for (long c : coordinates) {
            h = mix(h ^ mix(c + GOLDEN)) + GOLDEN;
        }
        return mix(h);
    }

    /** A generator for {@code (seed, coordinates...)}. */
    public static SplittableRandom random(long seed, long... coordinates) {
        return new SplittableRandom(derive(seed, coordinates));
    }

    /**
     * The order in which to visit {@code n} examples in epoch {@code epoch}: a permutation of {@code 0..n-1}
     * drawn by Fisher–Yates from {@code (seed, "shuffle", epoch)}.
     */
    public static int[] permutation(int n, long seed, long epoch) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom rng = random(seed, name("shuffle"), epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** A 64-bit FNV-1a hash of a name's UTF-8 bytes, to use a name as a coordinate. */
    public static long name(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finaliser (Stafford variant 13). */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
