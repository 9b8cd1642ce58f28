package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;

import java.util.Arrays;

/**
 * A tensor to be written, before its data exists: its key, the dtype it is stored in, and its shape. Enough to
 * lay out a safetensors header and to decide how a checkpoint is split into shards.
 *
 * @param key   the tensor key; non-empty and not {@code __metadata__}
 * @param dtype the stored element type
 * @param shape the dimensions, row-major (C order); empty for a scalar
 */
public record TensorSpec(String key, DType dtype, long[] shape) {

    /**
     * @throws MorException naming the key if it is empty or reserved, the dtype is missing, or a dimension is
     *                      negative or the byte count does not fit in a long
     */
    public TensorSpec {
        if (key == null || key.isEmpty()) {
            throw new MorException("tensor key " + (key == null ? "null" : "''") + "; expected a non-empty key");
        }
        if (key.equals(SafetensorsFile.METADATA_KEY)) {
            throw new MorException("key '" + key + "' is reserved for metadata; expected a tensor key");
        }
        if (dtype == null || shape == null) {
            throw new MorException("key '" + key + "': " + (dtype == null ? "dtype" : "shape")
                    + " is null; expected a dtype and a shape");
        }
        shape = shape.clone();
        for (long d : shape) {
            if (d < 0) {
                throw new MorException("key '" + key + "': shape " + Arrays.toString(shape)
                        + " has a negative dimension");
            }
        }
        try {
            Math.multiplyExact(TensorInfo.numel(shape), (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new MorException("key '" + key + "': shape " + Arrays.toString(shape)
                    + " has more bytes than a 64-bit count holds");
        }
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The number of elements (1 for a scalar, 0 if any dimension is 0). */
    public long numel() {
        return TensorInfo.numel(shape);
    }

    /** The number of data bytes: elements × the dtype's size. */
    public long byteLength() {
        return numel() * dtype.byteSize();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && key.equals(t.key) && dtype == t.dtype && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return (key.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return key + " " + dtype + " " + Arrays.toString(shape);
    }
}
