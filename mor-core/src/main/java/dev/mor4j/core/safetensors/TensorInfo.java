package dev.mor4j.core.safetensors;

import java.util.Arrays;

/**
 * What a safetensors header says about one tensor.
 *
 * @param name  the tensor key
 * @param dtype the element type
 * @param shape the dimensions, row-major (C order); empty for a scalar
 * @param begin first byte of the tensor's data, relative to the start of the data section
 *              (the byte after the header), as in the header's {@code data_offsets}
 * @param end   one past the last byte, relative to the start of the data section
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** The number of elements (1 for a scalar, 0 if any dimension is 0). */
    public long numel() {
        return numel(shape);
    }

    /** The number of data bytes, {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    /**
     * The product of the dimensions.
     *
     * @throws ArithmeticException if it does not fit in a long
     */
    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape)
                + Long.hashCode(begin) * 17 + Long.hashCode(end);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + "]";
    }
}
