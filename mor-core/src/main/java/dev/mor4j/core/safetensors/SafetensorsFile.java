package dev.mor4j.core.safetensors;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.mor4j.core.MorException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened for reading.
 *
 * <p>The format: an unsigned 64-bit little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON
 * (the header), then the data section. The header maps each tensor key to
 * {@code {"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]}} with offsets relative to the
 * start of the data section, and may hold a {@code "__metadata__"} object of string values.
 *
 * <p>{@link #open(Path)} validates the whole header before returning: a file that opens reads without
 * surprises. Checked: the header length fits in the file and is at most {@value #MAX_HEADER_BYTES} bytes; the
 * header is UTF-8 JSON holding one object; every entry has a supported dtype, a shape of non-negative integers
 * and two data offsets with {@code begin <= end <= data section size}; the byte count equals
 * {@code numel * dtype size}; no two tensors share bytes; {@code __metadata__} maps strings to strings; no key
 * appears twice. Gaps between tensors and bytes after the last one are tolerated.
 *
 * <p>Tensor data is read through read-only memory mappings of the tensor's own bytes (in windows of at most
 * 1 GiB), so files larger than 2 GiB work. A single tensor is loaded into one Java array, so one with more
 * than {@value #MAX_ARRAY_ELEMENTS} elements is refused with a clear message.
 *
 * <p>Reading methods may be called from several threads at once. Returned arrays are copies: they stay valid
 * after {@link #close()}.
 */
public final class SafetensorsFile implements TensorSource {

    /** The largest header accepted, in bytes (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** The most elements one tensor may have to be loaded (the largest safe Java array length). */
    public static final int MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

    static final long DEFAULT_MAP_WINDOW = 1L << 30;

    static final String METADATA_KEY = "__metadata__";

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    private final Path path;
    private final String where;
    private final FileChannel channel;
    private final long headerLength;
    private final long dataStart;
    private final long dataLength;
    private final long mapWindow;
    private final Map<String, TensorInfo> tensors;
    private final List<String> keys;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafetensorsFile(Path path, FileChannel channel, long mapWindow) throws IOException {
        this.path = path;
        this.where = path.toString();
        this.channel = channel;
        this.mapWindow = mapWindow;

        long size = channel.size();
        if (size < 8) {
            throw new MorException(where + ": file is " + size + " bytes long; a safetensors file starts with an "
                    + "8-byte header length (file truncated or not a safetensors file)");
        }
        long n = channel.map(FileChannel.MapMode.READ_ONLY, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new MorException(where + ": header length " + Long.toUnsignedString(n) + " bytes is over the "
                    + MAX_HEADER_BYTES + "-byte limit (corrupt file or not a safetensors file)");
        }
        if (n > size - 8) {
            throw new MorException(where + ": header length " + n + " bytes exceeds the file: only " + (size - 8)
                    + " bytes follow the 8-byte length (file truncated or not a safetensors file)");
        }
        this.headerLength = n;
        this.dataStart = 8 + n;
        this.dataLength = size - 8 - n;

        JsonNode root = parseHeader(channel.map(FileChannel.MapMode.READ_ONLY, 8, n));
        Map<String, TensorInfo> parsed = new LinkedHashMap<>();
        Map<String, String> meta = Map.of();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals(METADATA_KEY)) {
                meta = parseMetadata(e.getValue());
            } else {
                parsed.put(e.getKey(), parseEntry(e.getKey(), e.getValue()));
            }
        }
        checkNoOverlap(parsed.values());
        this.tensors = Collections.unmodifiableMap(parsed);
        this.keys = List.copyOf(parsed.keySet());
        this.metadata = meta;
    }

    /**
     * Opens and validates a safetensors file.
     *
     * @throws MorException if the file cannot be opened or its header is invalid; the message names the file,
     *                      the key concerned and what was expected
     */
    public static SafetensorsFile open(Path path) {
        return open(path, DEFAULT_MAP_WINDOW);
    }

    /** As {@link #open(Path)}, reading tensor data in mappings of at most {@code mapWindow} bytes. */
    static SafetensorsFile open(Path path, long mapWindow) {
        if (Files.isDirectory(path)) {
            throw new MorException(path + ": is a directory; expected a .safetensors file"
                    + " (open a model directory with ShardedCheckpoint.open)");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new MorException(path + ": file not found; expected a .safetensors file");
        } catch (IOException e) {
            throw new MorException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            return new SafetensorsFile(path, channel, mapWindow);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new MorException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            closeQuietly(channel);
            throw e;
        }
    }

    // ------------------------------------------------------------------ header validation

    private JsonNode parseHeader(ByteBuffer bytes) {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer text;
        try {
            text = utf8.decode(bytes);
        } catch (CharacterCodingException e) {
            throw new MorException(where + ": header is not valid UTF-8 (bad byte at header offset "
                    + bytes.position() + "); expected a UTF-8 JSON object");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text.toString());
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String at = loc == null ? "" : " at header character " + loc.getCharOffset();
            String why = e.getOriginalMessage().startsWith("Trailing token")
                    ? "more content after the JSON object" : e.getOriginalMessage();
            throw new MorException(where + ": header is not valid JSON" + at + " (" + why
                    + "); expected a JSON object mapping tensor keys to {dtype, shape, data_offsets}", e);
        }
        if (root == null || !root.isObject()) {
            throw new MorException(where + ": header is " + kind(root) + "; expected a JSON object mapping tensor"
                    + " keys to {dtype, shape, data_offsets}");
        }
        return root;
    }

    private Map<String, String> parseMetadata(JsonNode node) {
        if (node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new MorException(where + ": key '" + METADATA_KEY + "': expected an object of string values, found "
                    + kind(node));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new MorException(where + ": key '" + METADATA_KEY + "': entry '" + e.getKey()
                        + "' is " + kind(e.getValue()) + "; expected a string (metadata maps strings to strings)");
            }
            meta.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(meta);
    }

    private TensorInfo parseEntry(String key, JsonNode node) {
        if (!node.isObject()) {
            throw keyError(key, "expected an object {\"dtype\", \"shape\", \"data_offsets\"}, found " + kind(node));
        }
        JsonNode dtypeNode = field(key, node, "dtype");
        if (!dtypeNode.isTextual()) {
            throw keyError(key, "\"dtype\" is " + kind(dtypeNode) + "; expected a string such as \"F32\"");
        }
        DType dtype = DType.parse(dtypeNode.textValue(), where, key);
        long[] shape = naturals(key, "shape", field(key, node, "shape"), -1);
        long[] offsets = naturals(key, "data_offsets", field(key, node, "data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        String range = "data_offsets [" + begin + ", " + end + "]";
        if (begin > end) {
            throw keyError(key, range + " are reversed; expected begin <= end");
        }
        if (end > dataLength) {
            throw keyError(key, range + " exceed the data section (" + dataLength + " bytes)");
        }
        long numel;
        long needed;
        try {
            numel = TensorInfo.numel(shape);
            needed = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw keyError(key, "shape " + Arrays.toString(shape) + " has more elements than a 64-bit count holds");
        }
        if (end - begin != needed) {
            throw keyError(key, range + " hold " + (end - begin) + " bytes, but dtype " + dtype + " with shape "
                    + Arrays.toString(shape) + " needs " + numel + " x " + dtype.byteSize() + " = " + needed
                    + " bytes");
        }
        return new TensorInfo(key, dtype, shape, begin, end);
    }

    private JsonNode field(String key, JsonNode entry, String name) {
        JsonNode v = entry.get(name);
        if (v == null) {
            throw keyError(key, "missing \"" + name + "\"; expected an object {\"dtype\", \"shape\", \"data_offsets\"}");
        }
        return v;
    }

    /** A JSON array of non-negative integers, of the given length unless {@code length} is negative. */
    private long[] naturals(String key, String name, JsonNode node, int length) {
        String expected = length < 0 ? "an array of non-negative integers"
                : "an array of " + length + " non-negative integers";
        if (!node.isArray() || (length >= 0 && node.size() != length)) {
            throw keyError(key, "\"" + name + "\" is " + brief(node) + "; expected " + expected);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw keyError(key, "\"" + name + "\" is " + brief(node) + "; expected " + expected);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private void checkNoOverlap(Iterable<TensorInfo> infos) {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : infos) {
            if (t.byteLength() > 0) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo reach = null; // the tensor reaching furthest so far
        for (TensorInfo t : sorted) {
            if (reach != null && t.begin() < reach.end()) {
                throw keyError(t.name(), "data_offsets [" + t.begin() + ", " + t.end() + "] overlap those of key '"
                        + reach.name() + "' [" + reach.begin() + ", " + reach.end() + "]; expected every tensor to"
                        + " have bytes of its own");
            }
            if (reach == null || t.end() > reach.end()) {
                reach = t;
            }
        }
    }

    private MorException keyError(String key, String message) {
        return new MorException(where + ": key '" + key + "': " + message);
    }

    /** The JSON text of a node, shortened for a message. */
    static String brief(JsonNode n) {
        String s = n.toString();
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    static String kind(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "empty";
        }
        if (n.isObject()) {
            return "an object";
        }
        if (n.isArray()) {
            return "an array";
        }
        if (n.isTextual()) {
            return "a string";
        }
        if (n.isNumber()) {
            return "a number (" + n + ")";
        }
        if (n.isBoolean()) {
            return "a boolean (" + n + ")";
        }
        if (n.isNull()) {
            return "null";
        }
        return n.getNodeType().toString().toLowerCase();
    }

    // ------------------------------------------------------------------ accessors

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** The file path, used at the start of error messages. */
    @Override
    public String description() {
        return where;
    }

    /**
     * The tensor keys in header order (the order of the JSON object; files written by the Python
     * {@code safetensors} library and by {@link SafetensorsWriter} list tensors in data order: by dtype size,
     * largest first, then by name). {@code __metadata__} is not a key.
     */
    @Override
    public List<String> keys() {
        return keys;
    }

    @Override
    public boolean contains(String key) {
        return tensors.containsKey(key);
    }

    /** The number of tensors. */
    public int size() {
        return tensors.size();
    }

    @Override
    public TensorInfo info(String key) {
        TensorInfo t = tensors.get(key);
        if (t == null) {
            throw new MorException(where + ": no tensor with key '" + key + "' (the file holds " + tensors.size()
                    + " tensors" + suggestion(key, keys) + ")");
        }
        return t;
    }

    /** The {@code __metadata__} map (empty if the header has none), in header order; unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The header length in bytes (the number stored in the first 8 bytes). */
    public long headerLength() {
        return headerLength;
    }

    /** The size of the data section in bytes (file size - 8 - header length). */
    public long dataLength() {
        return dataLength;
    }

    // ------------------------------------------------------------------ reading

    @Override
    public float[] floatData(String key) {
        TensorInfo t = info(key);
        if (!t.dtype().isFloatingPoint()) {
            throw keyError(key, "has dtype " + t.dtype() + "; expected a floating-point tensor (F32, F16 or BF16)"
                    + " (read integer tensors with getLong)");
        }
        float[] out = new float[elementCount(t)];
        switch (t.dtype()) {
            case F32 -> readWindows(t, (bytes, at, count) -> bytes.asFloatBuffer().get(out, at, count));
            case BF16 -> readWindows(t, (bytes, at, count) -> {
                ShortBuffer s = bytes.asShortBuffer();
                for (int i = 0; i < count; i++) {
                    out[at + i] = HalfFloats.bf16ToFloat(s.get(i));
                }
            });
            case F16 -> readWindows(t, (bytes, at, count) -> {
                ShortBuffer s = bytes.asShortBuffer();
                for (int i = 0; i < count; i++) {
                    out[at + i] = HalfFloats.halfToFloat(s.get(i));
                }
            });
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    @Override
    public long[] longData(String key) {
        TensorInfo t = info(key);
        if (t.dtype() != DType.I64 && t.dtype() != DType.I32) {
            throw keyError(key, "has dtype " + t.dtype() + "; expected an integer tensor (I64 or I32)"
                    + " (read floating-point tensors with getFloat)");
        }
        long[] out = new long[elementCount(t)];
        if (t.dtype() == DType.I64) {
            readWindows(t, (bytes, at, count) -> bytes.asLongBuffer().get(out, at, count));
        } else {
            readWindows(t, (bytes, at, count) -> {
                IntBuffer s = bytes.asIntBuffer();
                for (int i = 0; i < count; i++) {
                    out[at + i] = s.get(i);
                }
            });
        }
        return out;
    }

    @Override
    public INDArray getFloat(String key) {
        float[] data = floatData(key);
        return floatArray(data, info(key).shape());
    }

    @Override
    public INDArray getStored(String key) {
        TensorInfo t = info(key);
        DataType type = switch (t.dtype()) {
            case F32 -> DataType.FLOAT;
            case BF16 -> DataType.BFLOAT16;
            case F16 -> DataType.HALF;
            default -> throw keyError(key, "has dtype " + t.dtype() + "; expected a floating-point tensor (F32, F16"
                    + " or BF16) (read integer tensors with getLong)");
        };
        elementCount(t);
        if (t.shape().length == 0 || t.numel() == 0) {
            return getFloat(key).castTo(type);
        }
        INDArray out = Nd4j.createUninitialized(type, t.shape(), 'c'); // the stored shape
        ByteBuffer target = out.data().asNio();
        int elementSize = t.dtype().byteSize();
        // the file's little-endian bytes are the array's native bytes on the little-endian platforms ND4J runs on
        readWindows(t, (bytes, at, count) -> target.duplicate().position(at * elementSize).put(bytes));
        return out;
    }

    @Override
    public INDArray getLong(String key) {
        long[] data = longData(key);
        return longArray(data, info(key).shape());
    }

    /** A FLOAT array in C order over {@code data} (whose length is the product of {@code shape}). */
    static INDArray floatArray(float[] data, long[] shape) {
        if (shape.length == 0) {
            return Nd4j.scalar(data[0]);
        }
        if (data.length == 0) {
            return Nd4j.create(DataType.FLOAT, shape);
        }
        return Nd4j.create(data, shape, 'c');
    }

    /** A LONG array in C order over {@code data} (whose length is the product of {@code shape}). */
    static INDArray longArray(long[] data, long[] shape) {
        if (shape.length == 0) {
            return Nd4j.scalar(data[0]);
        }
        if (data.length == 0) {
            return Nd4j.create(DataType.LONG, shape);
        }
        return Nd4j.create(data, shape, Nd4j.getStrides(shape, 'c'), 'c', DataType.LONG);
    }

    private int elementCount(TensorInfo t) {
        long n = t.numel();
        if (n > MAX_ARRAY_ELEMENTS) {
            throw keyError(t.name(), "has " + n + " elements (shape " + Arrays.toString(t.shape())
                    + "); at most " + MAX_ARRAY_ELEMENTS + " fit in one Java array, so it cannot be loaded whole");
        }
        return (int) n;
    }

    @FunctionalInterface
    private interface WindowReader {
        /**
         * Reads {@code count} elements from {@code bytes} (little-endian) into the output from {@code at}; the
         * window is unmapped when this returns, so it must copy what it needs.
         */
        void read(ByteBuffer bytes, int at, int count);
    }

    /** Maps the tensor's bytes in windows of whole elements and hands each window to {@code reader}. */
    private void readWindows(TensorInfo t, WindowReader reader) {
        if (closed) {
            throw new IllegalStateException(where + " is closed");
        }
        int elementSize = t.dtype().byteSize();
        long window = Math.max(elementSize, mapWindow - mapWindow % elementSize);
        long position = dataStart + t.begin();
        long left = t.byteLength();
        int at = 0;
        while (left > 0) {
            long length = Math.min(left, window);
            ByteBuffer bytes;
            try {
                bytes = channel.map(FileChannel.MapMode.READ_ONLY, position, length);
            } catch (IOException e) {
                throw keyError(t.name(), "cannot map file bytes [" + position + ", " + (position + length) + "): "
                        + e.getMessage());
            }
            bytes.order(ByteOrder.LITTLE_ENDIAN);
            int count = (int) (length / elementSize);
            reader.read(bytes, at, count);
            Unmapper.unmap(bytes); // every reader copies the window's bytes out
            at += count;
            position += length;
            left -= length;
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only: nothing is lost
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + where + ", " + tensors.size() + " tensors]";
    }

    // ------------------------------------------------------------------ messages

    /** {@code "; did you mean 'x'?"} for the closest key by edit distance, if reasonably close; else "". */
    static String suggestion(String key, List<String> keys) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : keys) {
            int d = editDistance(key, k, bestDistance);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        if (best == null || bestDistance > Math.max(3, key.length() / 3)) {
            return "";
        }
        return "; did you mean '" + best + "'?";
    }

    /** Levenshtein distance, or some value >= {@code limit} once it is known to reach it. */
    private static int editDistance(String a, String b, int limit) {
        if (Math.abs(a.length() - b.length()) >= limit) {
            return limit;
        }
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            int rowMin = cur[0];
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
                rowMin = Math.min(rowMin, cur[j]);
            }
            if (rowMin >= limit) {
                return limit;
            }
            int[] swap = prev;
            prev = cur;
            cur = swap;
        }
        return prev[b.length()];
    }
}
