package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * {@link TensorValues} over an INDArray, read chunk by chunk straight from its off-heap buffer (through a
 * JavaCPP pointer, so buffers beyond 2 GiB work). FLOAT, DOUBLE, HALF and BFLOAT16 read as floats (HALF and
 * BFLOAT16 widened exactly, DOUBLE rounded to nearest), LONG and INT as longs.
 */
final class ArrayValues implements TensorValues {

    private final INDArray array; // dense, C order, offset 0: element i is at buffer position i
    private final boolean copied; // array is a copy made here (released by close), not the caller's
    private final INDArray owned; // the caller's array when close releases it too, else null
    private final long[] shape;
    private final Pointer pointer; // the buffer's first element
    private short[] bits; // scratch for HALF/BFLOAT16
    private double[] doubles; // scratch for DOUBLE
    private int[] ints; // scratch for INT

    /**
     * @param source the array
     * @param own    whether {@link #close()} also releases {@code source} (a value made only to be written)
     */
    ArrayValues(INDArray source, boolean own) {
        if (source == null) {
            throw new MorException("array is null; expected an INDArray");
        }
        DataType type = source.dataType();
        switch (type) {
            case FLOAT, DOUBLE, HALF, BFLOAT16, LONG, INT -> { }
            default -> throw new MorException("cannot write ND4J type " + type
                    + "; expected FLOAT, DOUBLE, HALF, BFLOAT16, LONG or INT");
        }
        this.shape = source.shape().clone();
        this.array = dense(source);
        this.copied = array != source;
        this.owned = own ? source : null;
        this.pointer = array.isEmpty() ? null : array.data().addressPointer();
    }

    /** The array itself if it is a plain C-order array owning its whole buffer, else a C-order copy. */
    private static INDArray dense(INDArray a) {
        if (a.isEmpty()) {
            return a;
        }
        boolean dense = a.ordering() == 'c' && !a.isView() && a.offset() == 0 && a.data().length() == a.length()
                && Arrays.equals(a.stride(), Nd4j.getStrides(a.shape(), 'c'));
        return dense ? a : a.dup('c');
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public void readFloats(long start, float[] dst, int count) {
        switch (array.dataType()) {
            case FLOAT -> new FloatPointer(pointer).position(start).get(dst, 0, count);
            case DOUBLE -> {
                doubles = scratch(doubles, count);
                new DoublePointer(pointer).position(start).get(doubles, 0, count);
                for (int i = 0; i < count; i++) {
                    dst[i] = (float) doubles[i];
                }
            }
            case HALF -> {
                bits = scratch(bits, count);
                new ShortPointer(pointer).position(start).get(bits, 0, count);
                for (int i = 0; i < count; i++) {
                    dst[i] = HalfFloats.halfToFloat(bits[i]);
                }
            }
            case BFLOAT16 -> {
                bits = scratch(bits, count);
                new ShortPointer(pointer).position(start).get(bits, 0, count);
                for (int i = 0; i < count; i++) {
                    dst[i] = HalfFloats.bf16ToFloat(bits[i]);
                }
            }
            default -> throw new MorException("an array of ND4J type " + array.dataType() + " (shape "
                    + Arrays.toString(shape) + ") cannot be written as a floating-point tensor");
        }
    }

    @Override
    public void readLongs(long start, long[] dst, int count) {
        switch (array.dataType()) {
            case LONG -> new LongPointer(pointer).position(start).get(dst, 0, count);
            case INT -> {
                ints = scratch(ints, count);
                new IntPointer(pointer).position(start).get(ints, 0, count);
                for (int i = 0; i < count; i++) {
                    dst[i] = ints[i];
                }
            }
            default -> TensorValues.super.readLongs(start, dst, count);
        }
    }

    @Override
    public void close() {
        if (copied && array.closeable()) {
            array.close();
        }
        if (owned != null && owned.closeable()) {
            owned.close(); // now rather than at some later garbage collection
        }
    }

    private static short[] scratch(short[] a, int n) {
        return a != null && a.length >= n ? a : new short[n];
    }

    private static double[] scratch(double[] a, int n) {
        return a != null && a.length >= n ? a : new double[n];
    }

    private static int[] scratch(int[] a, int n) {
        return a != null && a.length >= n ? a : new int[n];
    }
}
