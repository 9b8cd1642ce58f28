package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Writes tensors' data sections to a safetensors file being written: each tensor's values converted to its
 * dtype (little-endian; F32 bit-exact from floats, BF16 and F16 rounded to nearest even, I64 and I32 from
 * longs), in chunks of {@value #CHUNK_BYTES} bytes, so that memory use does not grow with the tensor.
 */
final class TensorDataWriter {

    static final int CHUNK_BYTES = 1 << 20;

    private final FileChannel ch;
    private final String where;
    private final ByteBuffer bytes = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final float[] floats = new float[CHUNK_BYTES / 2];
    private final long[] longs = new long[CHUNK_BYTES / 4];

    /**
     * @param ch    the file, positioned where the first tensor's data starts
     * @param where the file's name, for messages
     */
    TensorDataWriter(FileChannel ch, String where) {
        this.ch = ch;
        this.where = where;
    }

    /** Asks for the tensor's values, checks their shape, converts them to its dtype and writes them. */
    void write(TensorSpec spec, Function<TensorSpec, TensorValues> values) throws IOException {
        String key = spec.key();
        TensorValues v;
        try {
            v = values.apply(spec);
        } catch (MorException e) {
            throw keyError(key, e);
        }
        if (v == null) {
            throw new MorException(where + ": key '" + key + "': no values given; expected shape "
                    + Arrays.toString(spec.shape()));
        }
        try (v) {
            writeValues(spec, v);
        }
    }

    private void writeValues(TensorSpec spec, TensorValues v) throws IOException {
        String key = spec.key();
        if (!Arrays.equals(v.shape(), spec.shape())) {
            throw new MorException(where + ": key '" + key + "': the values have shape " + Arrays.toString(v.shape())
                    + "; expected " + Arrays.toString(spec.shape()));
        }
        long n = spec.numel();
        int size = spec.dtype().byteSize();
        int perChunk = CHUNK_BYTES / size;
        try {
            for (long at = 0; at < n; at += perChunk) {
                int count = (int) Math.min(perChunk, n - at);
                fill(spec, v, at, count);
                bytes.limit(count * size);
                writeFully(ch, bytes);
            }
        } catch (MorException e) {
            throw keyError(key, e);
        }
    }

    /** Puts elements {@code [at, at + count)} into {@code bytes} from position 0, in the spec's dtype. */
    private void fill(TensorSpec spec, TensorValues v, long at, int count) {
        bytes.clear();
        switch (spec.dtype()) {
            case F32 -> {
                v.readFloats(at, floats, count);
                bytes.asFloatBuffer().put(floats, 0, count);
            }
            case BF16 -> {
                v.readFloats(at, floats, count);
                for (int i = 0; i < count; i++) {
                    bytes.putShort(2 * i, HalfFloats.floatToBf16(floats[i]));
                }
            }
            case F16 -> {
                v.readFloats(at, floats, count);
                for (int i = 0; i < count; i++) {
                    bytes.putShort(2 * i, HalfFloats.floatToHalf(floats[i]));
                }
            }
            case I64 -> {
                v.readLongs(at, longs, count);
                bytes.asLongBuffer().put(longs, 0, count);
            }
            case I32 -> {
                v.readLongs(at, longs, count);
                for (int i = 0; i < count; i++) {
                    if (longs[i] != (int) longs[i]) {
                        throw new MorException("element " + (at + i) + " is " + longs[i] + ", outside the I32 range");
                    }
                    bytes.putInt(4 * i, (int) longs[i]);
                }
            }
        }
    }

    private MorException keyError(String key, MorException e) {
        String m = e.getMessage();
        return m.startsWith(where + ": ") ? e : new MorException(where + ": key '" + key + "': " + m, e);
    }

    static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
