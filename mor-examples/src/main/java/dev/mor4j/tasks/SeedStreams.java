package dev.mor4j.tasks;

import java.util.Random;

/**
 * Independent, reproducible random streams derived from one seed: stream {@code name} of seed {@code s} is a
 * {@link Random} (whose sequence the Java specification fixes) seeded with {@code splitmix64(s ⊕ h)}, where
 * {@code h = splitmix64(name.hashCode())} ({@link String#hashCode} is specified too). The same seed and name
 * give the same numbers on every JVM, and adding a stream does not shift the numbers of the others.
 */
final class SeedStreams {

    private SeedStreams() {
    }

    /** The stream {@code name} of {@code seed}. */
    static Random stream(long seed, String name) {
        return new Random(splitmix64(seed ^ splitmix64(name.hashCode())));
    }

    /** The splitmix64 finaliser (Steele, Lea and Flood 2014): a bijection of 64-bit values that mixes every bit. */
    static long splitmix64(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
