package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * The values of one tensor, read by writers in consecutive chunks of C-order (row-major) elements, so that a
 * tensor is never copied whole into a Java array and a generated tensor need not exist whole at all.
 *
 * <p>Writers read every element once, in increasing order: {@code start} is 0 on the first call and each
 * call continues where the previous one ended. Implementations may rely on that. Writers then call
 * {@link #close()}.
 */
public interface TensorValues extends AutoCloseable {

    /** The tensor's dimensions, row-major; empty for a scalar. */
    long[] shape();

    /**
     * Copies elements {@code [start, start + count)} in C order, as floats, into {@code dst[0..count)}.
     *
     * @throws MorException if the values are integers
     */
    void readFloats(long start, float[] dst, int count);

    /**
     * Copies elements {@code [start, start + count)} in C order, as longs, into {@code dst[0..count)}.
     *
     * @throws MorException if the values are floating-point (the default)
     */
    default void readLongs(long start, long[] dst, int count) {
        throw new MorException("floating-point values (shape " + Arrays.toString(shape())
                + ") cannot be written as an integer tensor");
    }

    /**
     * Called by the writer once the tensor is written (or writing it failed): releases what these values own,
     * such as an array computed only to be written. The default does nothing.
     */
    @Override
    default void close() {
    }

    /**
     * The values of an array of type FLOAT, DOUBLE, HALF or BFLOAT16 (read as floats; DOUBLE is rounded to
     * the nearest float) or LONG or INT (read as longs). Views and non-C-order arrays are copied to C order
     * once; a dense C-order array is read in place. The array must not change until it has been written;
     * {@link #close()} releases the copy, never the array itself.
     *
     * @throws MorException for other ND4J types
     */
    static TensorValues of(INDArray array) {
        return new ArrayValues(array, false);
    }

    /**
     * As {@link #of(INDArray)}, and {@link #close()} also releases the array itself: for values computed only to be
     * written, freed tensor by tensor.
     */
    static TensorValues owning(INDArray array) {
        return new ArrayValues(array, true);
    }

    /**
     * Values held in a float array, in C order.
     *
     * @param shape dimensions whose product is {@code data.length}
     * @throws MorException if the lengths disagree
     */
    static TensorValues of(float[] data, long... shape) {
        long[] dims = shape.clone();
        if (TensorInfo.numel(dims) != data.length) {
            throw new MorException("float data of length " + data.length + " for shape " + Arrays.toString(dims)
                    + "; expected " + TensorInfo.numel(dims) + " values");
        }
        return new TensorValues() {
            @Override
            public long[] shape() {
                return dims.clone();
            }

            @Override
            public void readFloats(long start, float[] dst, int count) {
                System.arraycopy(data, Math.toIntExact(start), dst, 0, count);
            }
        };
    }
}
