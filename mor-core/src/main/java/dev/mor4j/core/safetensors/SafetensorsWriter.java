package dev.mor4j.core.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.mor4j.core.MorException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes safetensors files that the Python {@code safetensors} library (and {@code transformers}, PEFT) read.
 *
 * <p>Element types: {@code FLOAT} is written as F32, {@code LONG} as I64, {@code INT} as I32; {@code DOUBLE},
 * {@code HALF} and {@code BFLOAT16} are converted to F32. Other ND4J types are refused.
 *
 * <p>Layout, as the Python library writes it: tensors are ordered by dtype size, largest first (I64, then F32,
 * then I32), then by key (code point order); the header lists {@code __metadata__} first (its entries sorted by
 * key), then the tensors in that order, as compact JSON padded with spaces to a multiple of 8 bytes, so every
 * tensor's data starts at an offset that is a multiple of its element size. The order of the given map does
 * not matter. Views and non-C-order arrays are written in C (row-major) order.
 *
 * <p>Writing is atomic: the file is written to a temporary file in the same directory, flushed to disk and
 * renamed over {@code file}. On any failure the temporary file is removed and an existing {@code file} is
 * left as it was.
 */
public final class SafetensorsWriter {

    private static final int IO_CHUNK = 1 << 20;

    private SafetensorsWriter() {
    }

    /** As {@link #write(Path, Map, Map)} without {@code __metadata__}. */
    public static void write(Path file, Map<String, INDArray> tensors) {
        write(file, tensors, null);
    }

    /**
     * Writes {@code tensors} to {@code file}, replacing it atomically if it exists.
     *
     * @param file     where to write; its directory must exist
     * @param tensors  key to array; keys must be non-empty and not {@code __metadata__}
     * @param metadata the {@code __metadata__} strings (for example {@code format=pt}); null writes none
     * @throws MorException naming the file and key if a tensor cannot be written, or if writing fails
     */
    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata) {
        String where = file.toString();
        if (tensors == null) {
            throw new MorException(where + ": no tensor map given; expected a map of key to INDArray");
        }
        List<Entry> entries = new ArrayList<>(tensors.size());
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            entries.add(entry(where, e.getKey(), e.getValue()));
        }
        entries.sort(Comparator.comparingInt((Entry e) -> -layoutRank(e.dtype))
                .thenComparing(e -> e.key, SafetensorsWriter::compareCodePoints));
        byte[] header = header(where, entries, metadata);

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (Files.isDirectory(target)) {
            throw new MorException(where + ": is a directory; expected a file path to write safetensors to");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new MorException(where + ": the directory " + dir + " does not exist; create it first");
        }
        Path temp = null;
        boolean moved = false;
        try {
            temp = createTemp(dir, target.getFileName().toString());
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer start = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
                start.putLong(header.length).put(header).flip();
                writeFully(ch, start);
                for (Entry e : entries) {
                    writeData(ch, where, e);
                }
                ch.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new MorException(where + ": the file system cannot rename atomically within " + dir
                        + "; refusing to replace the file non-atomically", e);
            }
            moved = true;
        } catch (IOException | UncheckedIOException e) {
            throw new MorException(where + ": cannot write: " + e.getMessage(), e);
        } finally {
            if (!moved && temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // nothing more to do; the target was not touched
                }
            }
        }
    }

    /**
     * The Python library's dtype order (its {@code Dtype} enum, by increasing alignment: ..., F16, BF16, I32,
     * U32, F32, F64, I64, ...); tensors are laid out from the highest rank down.
     */
    static int layoutRank(DType d) {
        return switch (d) {
            case F16 -> 0;
            case BF16 -> 1;
            case I32 -> 2;
            case F32 -> 3;
            case I64 -> 4;
        };
    }

    /** One tensor to write: its dtype, shape and source array (data is materialised only when written). */
    private record Entry(String key, DType dtype, long[] shape, long numel, INDArray array) {
    }

    private static Entry entry(String where, String key, INDArray array) {
        if (key == null || key.isEmpty()) {
            throw new MorException(where + ": tensor key " + (key == null ? "null" : "''")
                    + "; expected a non-empty key");
        }
        if (key.equals(SafetensorsFile.METADATA_KEY)) {
            throw new MorException(where + ": key '" + key + "' is reserved for metadata; expected a tensor key");
        }
        if (array == null) {
            throw new MorException(where + ": key '" + key + "': array is null; expected an INDArray");
        }
        DataType t = array.dataType();
        DType dtype = switch (t) {
            case FLOAT, DOUBLE, HALF, BFLOAT16 -> DType.F32;
            case LONG -> DType.I64;
            case INT -> DType.I32;
            default -> throw new MorException(where + ": key '" + key + "': cannot write ND4J type " + t
                    + "; expected FLOAT, DOUBLE, HALF or BFLOAT16 (written as F32), LONG (I64) or INT (I32)");
        };
        long[] shape = array.shape().clone();
        long numel = array.isEmpty() ? 0 : array.length();
        if (numel > SafetensorsFile.MAX_ARRAY_ELEMENTS) {
            throw new MorException(where + ": key '" + key + "': " + numel + " elements; at most "
                    + SafetensorsFile.MAX_ARRAY_ELEMENTS + " can be written as one tensor");
        }
        return new Entry(key, dtype, shape, numel, array);
    }

    private static byte[] header(String where, List<Entry> entries, Map<String, String> metadata) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            if (metadata != null) {
                TreeMap<String, String> sorted = new TreeMap<>(SafetensorsWriter::compareCodePoints);
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    if (m.getKey() == null || m.getValue() == null) {
                        throw new MorException(where + ": key '" + SafetensorsFile.METADATA_KEY + "': entry "
                                + m.getKey() + "=" + m.getValue() + " has a null; expected strings");
                    }
                    sorted.put(m.getKey(), m.getValue());
                }
                g.writeObjectFieldStart(SafetensorsFile.METADATA_KEY);
                for (Map.Entry<String, String> m : sorted.entrySet()) {
                    g.writeStringField(m.getKey(), m.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (Entry e : entries) {
                long bytes = e.numel * e.dtype.byteSize();
                g.writeObjectFieldStart(e.key);
                g.writeStringField("dtype", e.dtype.name());
                g.writeArrayFieldStart("shape");
                for (long d : e.shape) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(offset + bytes);
                g.writeEndArray();
                g.writeEndObject();
                offset += bytes;
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in-memory stream: does not happen
        }
        int length = out.size();
        int padded = (length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(out.toByteArray(), padded);
        Arrays.fill(header, length, padded, (byte) ' ');
        return header;
    }

    private static void writeData(FileChannel ch, String where, Entry e) throws IOException {
        if (e.numel == 0) {
            return;
        }
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(IO_CHUNK, e.numel * e.dtype.byteSize()))
                .order(ByteOrder.LITTLE_ENDIAN);
        int perChunk = buf.capacity() / e.dtype.byteSize();
        switch (e.dtype) {
            case F32 -> {
                float[] v = floatValues(where, e);
                for (int i = 0; i < v.length; i += perChunk) {
                    int n = Math.min(perChunk, v.length - i);
                    buf.clear();
                    buf.asFloatBuffer().put(v, i, n);
                    buf.limit(n * 4);
                    writeFully(ch, buf);
                }
            }
            case I64 -> {
                long[] v = longValues(where, e);
                for (int i = 0; i < v.length; i += perChunk) {
                    int n = Math.min(perChunk, v.length - i);
                    buf.clear();
                    buf.asLongBuffer().put(v, i, n);
                    buf.limit(n * 8);
                    writeFully(ch, buf);
                }
            }
            case I32 -> {
                int[] v = intValues(where, e);
                for (int i = 0; i < v.length; i += perChunk) {
                    int n = Math.min(perChunk, v.length - i);
                    buf.clear();
                    buf.asIntBuffer().put(v, i, n);
                    buf.limit(n * 4);
                    writeFully(ch, buf);
                }
            }
            default -> throw new AssertionError(e.dtype);
        }
    }

    /**
     * The array as a dense C-order array of the given type: the array itself if it already is one (a plain
     * C-order array owning its whole buffer), else a copy.
     */
    private static INDArray cOrder(INDArray a, DataType type) {
        INDArray typed = a.dataType() == type ? a : a.castTo(type);
        boolean dense = typed.ordering() == 'c' && !typed.isView() && typed.offset() == 0
                && typed.data().length() == typed.length()
                && Arrays.equals(typed.stride(), Nd4j.getStrides(typed.shape(), 'c'));
        return dense ? typed : typed.dup('c');
    }

    private static float[] floatValues(String where, Entry e) {
        INDArray c = cOrder(e.array, DataType.FLOAT);
        float[] v = c.data().asFloat();
        return exact(where, e, v.length, c.offset()) ? v
                : Arrays.copyOfRange(v, (int) c.offset(), (int) (c.offset() + e.numel));
    }

    private static long[] longValues(String where, Entry e) {
        INDArray c = cOrder(e.array, DataType.LONG);
        long[] v = c.data().asLong();
        return exact(where, e, v.length, c.offset()) ? v
                : Arrays.copyOfRange(v, (int) c.offset(), (int) (c.offset() + e.numel));
    }

    private static int[] intValues(String where, Entry e) {
        INDArray c = cOrder(e.array, DataType.INT);
        int[] v = c.data().asInt();
        return exact(where, e, v.length, c.offset()) ? v
                : Arrays.copyOfRange(v, (int) c.offset(), (int) (c.offset() + e.numel));
    }

    /** Whether the buffer holds exactly the tensor; fails if it holds too little. */
    private static boolean exact(String where, Entry e, int bufferLength, long offset) {
        if (offset + e.numel > bufferLength) {
            throw new MorException(where + ": key '" + e.key + "': the array's buffer holds " + bufferLength
                    + " values after offset " + offset + "; expected " + e.numel + " for shape "
                    + Arrays.toString(e.shape));
        }
        return offset == 0 && bufferLength == e.numel;
    }

    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path temp = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                    + ".tmp");
            try {
                // created with the default permissions, like the file it replaces would be
                return Files.createFile(temp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Compares strings by Unicode code point, which is the byte order of their UTF-8 encodings. */
    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
