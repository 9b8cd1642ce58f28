package dev.mor4j.core.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.mor4j.core.MorException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Writes safetensors files that the Python {@code safetensors} library (and {@code transformers}, PEFT) read.
 *
 * <p>Two ways in: a map of INDArrays ({@link #write(Path, Map, Map)}: {@code FLOAT} is written as F32,
 * {@code LONG} as I64, {@code INT} as I32; {@code DOUBLE}, {@code HALF} and {@code BFLOAT16} are converted to
 * F32; other ND4J types are refused), or a list of {@link TensorSpec}s with a function that produces each
 * tensor's {@link TensorValues} when its turn comes ({@link #write(Path, List, Function, Map)}), which writes
 * any {@link DType} from any values: F32, BF16 and F16 are rounded from the float values to nearest, ties to
 * even (see {@link HalfFloats}). Data is converted and written in chunks of 1 MiB; no tensor is copied whole
 * into a Java array.
 *
 * <p>Layout, as the Python library writes it: tensors are ordered by dtype size, largest first (I64, then F32,
 * then I32, BF16, F16), then by key (code point order); the header lists {@code __metadata__} first (its entries
 * sorted by key), then the tensors in that order, as compact JSON padded with spaces to a multiple of 8 bytes,
 * so every tensor's data starts at an offset that is a multiple of its element size. The order of the given
 * tensors does not matter. Views and non-C-order arrays are written in C (row-major) order.
 *
 * <p>Writing is atomic: the file is written to a temporary file in the same directory, flushed to disk and
 * renamed over {@code file}. On any failure the temporary file is removed and an existing {@code file} is
 * left as it was.
 */
public final class SafetensorsWriter {

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
        List<TensorSpec> specs = new ArrayList<>(tensors.size());
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            specs.add(spec(where, e.getKey(), e.getValue()));
        }
        write(file, specs, s -> TensorValues.of(tensors.get(s.key())), metadata);
    }

    /**
     * Writes the tensors {@code specs} describes to {@code file}, replacing it atomically if it exists. Each
     * tensor's values are asked for once, in the file's layout order, when its data is written, and are not
     * kept afterwards.
     *
     * @param specs    the tensors: keys distinct, non-empty and not {@code __metadata__}
     * @param values   produces a tensor's values, of the spec's shape; integer dtypes need integer values
     * @param metadata the {@code __metadata__} strings; null writes none
     * @throws MorException naming the file and key if a tensor cannot be written, or if writing fails
     */
    public static void write(Path file, List<TensorSpec> specs, Function<TensorSpec, TensorValues> values,
                             Map<String, String> metadata) {
        Path target = AtomicFiles.target(file);
        Path temp = writeTemp(target, specs, values, metadata);
        AtomicFiles.commit(temp, target);
    }

    /**
     * Writes a complete file to a new temporary file next to {@code target} (a path {@link AtomicFiles#target}
     * accepted)
     * and returns it, flushed to disk; on failure removes it and throws.
     */
    static Path writeTemp(Path target, List<TensorSpec> specs, Function<TensorSpec, TensorValues> values,
                          Map<String, String> metadata) {
        String where = target.toString();
        List<TensorSpec> ordered = layout(where, specs);
        byte[] header = header(where, ordered, metadata);
        Path temp = null;
        boolean done = false;
        try {
            temp = AtomicFiles.createTemp(target.getParent(), target.getFileName().toString());
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer start = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
                start.putLong(header.length).put(header).flip();
                TensorDataWriter.writeFully(ch, start);
                TensorDataWriter data = new TensorDataWriter(ch, where);
                for (TensorSpec s : ordered) {
                    data.write(s, values);
                }
                ch.force(true);
            }
            done = true;
            return temp;
        } catch (IOException | UncheckedIOException e) {
            throw new MorException(where + ": cannot write: " + e.getMessage(), e);
        } finally {
            if (!done) {
                AtomicFiles.deleteQuietly(temp);
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

    /** The spec of an array given in a map: checked before anything is written, so a bad entry leaves no file. */
    private static TensorSpec spec(String where, String key, INDArray array) {
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
        long numel = array.isEmpty() ? 0 : array.length();
        if (numel > SafetensorsFile.MAX_ARRAY_ELEMENTS) {
            throw new MorException(where + ": key '" + key + "': " + numel + " elements; at most "
                    + SafetensorsFile.MAX_ARRAY_ELEMENTS + " can be written as one tensor");
        }
        return new TensorSpec(key, dtype, array.shape());
    }

    /** The specs in the file's data order (dtype rank, then key), checked for null and repeated keys. */
    static List<TensorSpec> layout(String where, List<TensorSpec> specs) {
        if (specs == null) {
            throw new MorException(where + ": no tensor list given; expected a list of tensor specs");
        }
        Set<String> seen = new HashSet<>();
        for (TensorSpec s : specs) {
            if (s == null) {
                throw new MorException(where + ": a tensor spec is null; expected key, dtype and shape");
            }
            if (!seen.add(s.key())) {
                throw new MorException(where + ": key '" + s.key() + "' is given twice; expected distinct keys");
            }
        }
        List<TensorSpec> ordered = new ArrayList<>(specs);
        ordered.sort(Comparator.comparingInt((TensorSpec s) -> -layoutRank(s.dtype()))
                .thenComparing(TensorSpec::key, SafetensorsWriter::compareCodePoints));
        return ordered;
    }

    private static byte[] header(String where, List<TensorSpec> entries, Map<String, String> metadata) {
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
            for (TensorSpec e : entries) {
                long bytes = e.byteLength();
                g.writeObjectFieldStart(e.key());
                g.writeStringField("dtype", e.dtype().name());
                g.writeArrayFieldStart("shape");
                for (long d : e.shape()) {
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
