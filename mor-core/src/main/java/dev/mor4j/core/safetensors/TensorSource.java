package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * Named tensors that can be read one at a time: a single safetensors file ({@link SafetensorsFile}) or a
 * checkpoint directory that may be split into shards ({@link ShardedCheckpoint}).
 *
 * <p>Every method that takes a key throws {@link MorException} naming {@link #description()} and the key
 * if the key is not present. Reading methods return fresh arrays that do not share memory with the file
 * and stay valid after {@link #close()}.
 */
public interface TensorSource extends AutoCloseable {

    /** The tensor keys (see the implementing class for the order); unmodifiable. */
    List<String> keys();

    /** Whether a tensor with this key is present. */
    boolean contains(String key);

    /** Dtype, shape and location of a tensor. */
    TensorInfo info(String key);

    /**
     * A tensor of dtype F32, F16 or BF16 as a {@code DataType.FLOAT} array in C order with the stored shape
     * (F16 and BF16 are upcast exactly). Fails for integer tensors.
     */
    INDArray getFloat(String key);

    /**
     * A floating-point tensor in the type it is stored in (F32 as {@code DataType.FLOAT}, BF16 as
     * {@code BFLOAT16}, F16 as {@code HALF}), in C order with the stored shape, copied from the file's bytes
     * straight into the array's memory (no intermediate Java array). Fails for integer tensors.
     */
    INDArray getStored(String key);

    /**
     * A tensor of dtype I64 or I32 as a {@code DataType.LONG} array in C order with the stored shape.
     * Fails for floating-point tensors.
     */
    INDArray getLong(String key);

    /** The values of a floating-point tensor (F32, F16 or BF16) in C order, upcast to float. */
    float[] floatData(String key);

    /** The values of an integer tensor (I64 or I32) in C order, widened to long. */
    long[] longData(String key);

    /** What this source is (a file or directory path), used at the start of error messages. */
    String description();

    /** Releases the underlying files. Closing twice is allowed. */
    @Override
    void close();
}
