package dev.mor4j.bench;

import dev.mor4j.core.safetensors.TensorSpec;
import dev.mor4j.core.safetensors.TensorValues;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A tensor's values generated as they are read, never held whole: N(0, σ²) draws from a generator seeded by the
 * run's seed and the tensor's key (so each tensor is the same whatever order tensors are written in), or a
 * constant. Reads must be sequential, as writers make them.
 */
final class RandomValues implements TensorValues {

    private final long[] shape;
    private final double std; // 0 for a constant
    private final float constant;
    private final SplittableRandom random;
    private long next; // the element the next read must start at

    private RandomValues(long[] shape, double std, float constant, SplittableRandom random) {
        this.shape = shape.clone();
        this.std = std;
        this.constant = constant;
        this.random = random;
    }

    /** N(0, std²) values for {@code spec}, seeded by {@code seed} and the spec's key. */
    static RandomValues gaussian(TensorSpec spec, double std, long seed) {
        long tensorSeed = seed * 0x9E3779B97F4A7C15L ^ fnv1a(spec.key());
        return new RandomValues(spec.shape(), std, 0f, new SplittableRandom(tensorSeed));
    }

    /** Every value {@code value}. */
    static RandomValues constant(TensorSpec spec, float value) {
        return new RandomValues(spec.shape(), 0, value, null);
    }

    /** The 64-bit FNV-1a hash of the key's UTF-16 units. */
    static long fnv1a(String key) {
        long h = 0xCBF29CE484222325L;
        for (int i = 0; i < key.length(); i++) {
            h = (h ^ key.charAt(i)) * 0x100000001B3L;
        }
        return h;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public void readFloats(long start, float[] dst, int count) {
        if (start != next) {
            throw new IllegalStateException("read from " + start + ", expected the sequential position " + next);
        }
        if (random == null) {
            Arrays.fill(dst, 0, count, constant);
        } else {
            for (int i = 0; i < count; i++) {
                dst[i] = (float) (random.nextGaussian() * std);
            }
        }
        next += count;
    }
}
