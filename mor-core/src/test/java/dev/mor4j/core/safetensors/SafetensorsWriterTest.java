package dev.mor4j.core.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.mor4j.core.safetensors.StTestSupport.assertMessage;
import static dev.mor4j.core.safetensors.StTestSupport.f32;
import static dev.mor4j.core.TestData.model;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsWriterTest {

    @TempDir
    Path tmp;

    @Test
    void roundTripIsExactForF32I64I32AndMetadata() {
        float[] floats = {0f, -0.0f, 1.5f, -3.25e-7f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NaN,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0.1f, (float) Math.PI, -1e30f};
        long[] longs = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE, 1L << 40};
        int[] ints = {Integer.MIN_VALUE, -7, 0, 42, Integer.MAX_VALUE, 65536};
        INDArray random = Nd4j.rand(DataType.FLOAT, 5, 7, 3);

        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("f", Nd4j.create(floats, new long[]{3, 4}, 'c'));
        tensors.put("random", random);
        tensors.put("l", Nd4j.create(longs, new long[]{2, 3}, Nd4j.getStrides(new long[]{2, 3}, 'c'), 'c',
                DataType.LONG));
        tensors.put("i", Nd4j.createFromArray(ints).reshape('c', 3, 2));
        tensors.put("scalar", Nd4j.scalar(-2.75f));
        tensors.put("empty", Nd4j.create(DataType.FLOAT, 0, 4));
        Map<String, String> metadata = Map.of("format", "pt", "note", "ünïcode \"quoted\" \\ ✓", "empty", "");

        Path p = tmp.resolve("rt.safetensors");
        SafetensorsWriter.write(p, tensors, metadata);

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(metadata, f.metadata());
            assertEquals(tensors.keySet(), new java.util.HashSet<>(f.keys()));

            assertEquals(DType.F32, f.info("f").dtype());
            assertArrayEquals(new long[]{3, 4}, f.info("f").shape());
            assertBitsEqual(floats, f.floatData("f"));
            INDArray back = f.getFloat("random");
            assertArrayEquals(new long[]{5, 7, 3}, back.shape());
            assertBitsEqual(random.dup('c').data().asFloat(), back.data().asFloat());
            assertEquals(random, back);

            assertEquals(DType.I64, f.info("l").dtype());
            assertArrayEquals(longs, f.longData("l"));
            INDArray l = f.getLong("l");
            assertEquals(DataType.LONG, l.dataType());
            assertArrayEquals(new long[]{2, 3}, l.shape());

            assertEquals(DType.I32, f.info("i").dtype());
            assertArrayEquals(new long[]{3, 2}, f.info("i").shape());
            long[] widened = new long[ints.length];
            for (int k = 0; k < ints.length; k++) {
                widened[k] = ints[k];
            }
            assertArrayEquals(widened, f.longData("i"));

            assertEquals(0, f.info("scalar").rank());
            assertEquals(-2.75f, f.getFloat("scalar").getFloat(0));

            assertArrayEquals(new long[]{0, 4}, f.info("empty").shape());
            assertEquals(0, f.info("empty").byteLength());
            assertTrue(f.getFloat("empty").isEmpty());
        }
    }

    /** Byte for byte what the Python library wrote for the bundled checkpoint. */
    @Test
    void rewritesTheF32FixtureByteForByte() throws IOException {
        Path original = model("tiny-llama-f32").resolve("model.safetensors");
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(original)) {
            List<String> keys = new ArrayList<>(f.keys());
            Collections.reverse(keys); // the map order does not matter
            for (String k : keys) {
                tensors.put(k, f.getFloat(k));
            }
        }
        Path copy = tmp.resolve("copy.safetensors");
        SafetensorsWriter.write(copy, tensors, Map.of("format", "pt"));
        byte[] expected = Files.readAllBytes(original);
        byte[] actual = Files.readAllBytes(copy);
        assertEquals(expected.length, actual.length);
        assertTrue(java.util.Arrays.equals(expected, actual), "rewritten file differs from the original");
    }

    /** The reference library's own serialization examples, reproduced from its documented layout rules. */
    @Test
    void matchesTheReferenceLayoutForSmallCases() throws IOException {
        Path p = tmp.resolve("attn.safetensors");
        SafetensorsWriter.write(p, Map.of("attn.0", Nd4j.create(new float[]{0, 1, 2, 3, 4, 5}, new long[]{1, 2, 3}, 'c')));
        String header = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}"; // 64 bytes
        assertArrayEquals(fileBytes(header, f32(0, 1, 2, 3, 4, 5)), Files.readAllBytes(p));

        Path q = tmp.resolve("attn0.safetensors");
        SafetensorsWriter.write(q, Map.of("attn0", Nd4j.create(new float[]{0, 1, 2, 3, 4, 5}, new long[]{1, 1, 2, 3}, 'c')));
        String header2 = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ";
        assertArrayEquals(fileBytes(header2, f32(0, 1, 2, 3, 4, 5)), Files.readAllBytes(q));

        Path empty = tmp.resolve("empty.safetensors");
        SafetensorsWriter.write(empty, Map.of());
        assertArrayEquals(fileBytes("{}      ", new byte[0]), Files.readAllBytes(empty));

        Path meta = tmp.resolve("meta.safetensors");
        SafetensorsWriter.write(meta, Map.of(), Map.of("framework", "pt"));
        assertArrayEquals(fileBytes("{\"__metadata__\":{\"framework\":\"pt\"}}     ", new byte[0]),
                Files.readAllBytes(meta));
    }

    @Test
    void layoutSortsByDtypeSizeThenKeyAndAlignsData() throws IOException {
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("z.float", Nd4j.create(new float[]{1, 2, 3}, new long[]{3}, 'c'));
        tensors.put("a.int", Nd4j.createFromArray(1, 2, 3));
        tensors.put("m.long", Nd4j.createFromArray(5L));
        tensors.put("b.float", Nd4j.create(new float[]{4}, new long[]{1}, 'c'));
        tensors.put("c.long", Nd4j.createFromArray(6L, 7L));
        tensors.put("b.int", Nd4j.createFromArray(9));
        Path p = tmp.resolve("mixed.safetensors");
        SafetensorsWriter.write(p, tensors, Map.of("b", "2", "a", "1"));

        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header length is a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String json = header.stripTrailing();
        assertTrue(header.substring(json.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
        assertTrue(header.length() - json.length() < 8);

        JsonNode root = new ObjectMapper().readTree(json);
        List<String> order = new ArrayList<>();
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            order.add(it.next());
        }
        assertEquals(List.of("__metadata__", "c.long", "m.long", "b.float", "z.float", "a.int", "b.int"), order);
        assertEquals("{\"a\":\"1\",\"b\":\"2\"}", root.get("__metadata__").toString());
        assertTrue(json.startsWith("{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\"},\"c.long\":{\"dtype\":\"I64\",\"shape\":[2],"
                + "\"data_offsets\":[0,16]},"), json);

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(order.subList(1, order.size()), f.keys());
            long previousEnd = 0;
            for (String k : f.keys()) {
                TensorInfo t = f.info(k);
                assertEquals(previousEnd, t.begin(), "tensors are contiguous: " + k);
                assertEquals(0, (8 + n + t.begin()) % t.dtype().byteSize(), "aligned: " + k);
                previousEnd = t.end();
            }
            assertEquals(previousEnd, f.dataLength());
            assertArrayEquals(new long[]{6, 7}, f.longData("c.long"));
            assertArrayEquals(new long[]{1, 2, 3}, f.longData("a.int"));
            assertArrayEquals(new float[]{1, 2, 3}, f.floatData("z.float"));
        }
    }

    @Test
    void viewsAndOtherOrdersAreWrittenInCOrder() {
        INDArray m = Nd4j.create(new float[]{1, 2, 3, 4, 5, 6}, new long[]{2, 3}, 'c');
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("transposed", m.transpose()); // [3, 2], 'f' order over the same buffer
        tensors.put("column", m.get(NDArrayIndex.all(), NDArrayIndex.point(1))); // strided view
        tensors.put("row", m.get(NDArrayIndex.point(1), NDArrayIndex.all())); // view at an offset
        tensors.put("slice", m.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 3))); // [2, 2] view
        tensors.put("fOrder", Nd4j.create(new float[]{1, 2, 3, 4, 5, 6}, new long[]{2, 3}, 'f'));
        tensors.put("double", Nd4j.create(new double[]{0.1, 2.5}, new long[]{2}, DataType.DOUBLE));
        tensors.put("half", Nd4j.create(new float[]{0.5f, -3f}, new long[]{2}, 'c').castTo(DataType.HALF));
        tensors.put("bf16", Nd4j.create(new float[]{1.5f, -2f, 0.15625f}, new long[]{3}, 'c')
                .castTo(DataType.BFLOAT16));
        tensors.put("longView", Nd4j.createFromArray(new long[][]{{1, 2, 3}, {4, 5, 6}}).transpose());
        Path p = tmp.resolve("views.safetensors");
        SafetensorsWriter.write(p, tensors, null);

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of(), f.metadata());
            assertArrayEquals(new long[]{3, 2}, f.info("transposed").shape());
            assertArrayEquals(new float[]{1, 4, 2, 5, 3, 6}, f.floatData("transposed"));
            assertArrayEquals(new float[]{2, 5}, f.floatData("column"));
            assertArrayEquals(new float[]{4, 5, 6}, f.floatData("row"));
            assertArrayEquals(new long[]{2, 2}, f.info("slice").shape());
            assertArrayEquals(new float[]{2, 3, 5, 6}, f.floatData("slice"));
            // 'f' order data 1..6 is the matrix [[1, 3, 5], [2, 4, 6]]
            assertArrayEquals(new float[]{1, 3, 5, 2, 4, 6}, f.floatData("fOrder"));
            assertEquals(DType.F32, f.info("double").dtype());
            assertArrayEquals(new float[]{0.1f, 2.5f}, f.floatData("double"));
            assertEquals(DType.F32, f.info("half").dtype());
            assertArrayEquals(new float[]{0.5f, -3f}, f.floatData("half"));
            assertEquals(DType.F32, f.info("bf16").dtype());
            assertArrayEquals(new float[]{1.5f, -2f, 0.15625f}, f.floatData("bf16"));
            assertArrayEquals(new long[]{1, 4, 2, 5, 3, 6}, f.longData("longView"));
            assertEquals(m.transpose(), f.getFloat("transposed"));
        }
        // the sources are untouched
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, m.data().asFloat());
    }

    @Test
    void replacesAnExistingFileAtomically() throws IOException {
        Path p = tmp.resolve("w.safetensors");
        SafetensorsWriter.write(p, Map.of("w", Nd4j.create(new float[]{1, 2}, new long[]{2}, 'c')));
        try (SafetensorsFile old = SafetensorsFile.open(p)) {
            SafetensorsWriter.write(p, Map.of("w", Nd4j.create(new float[]{7, 8, 9}, new long[]{3}, 'c')));
            // a reader that had the old file open keeps seeing the old, complete file
            assertArrayEquals(new float[]{1, 2}, old.floatData("w"));
        }
        try (SafetensorsFile now = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[]{7, 8, 9}, now.floatData("w"));
        }
        assertEquals(List.of(p), listDir());
    }

    @Test
    void failedWriteLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path p = tmp.resolve("keep.safetensors");
        Files.writeString(p, "old contents");
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("ok", Nd4j.create(new float[]{1}, new long[]{1}, 'c'));
        tensors.put("flags", Nd4j.create(new boolean[]{true, false}, new long[]{2}, DataType.BOOL));
        MorException e = assertThrows(MorException.class, () -> SafetensorsWriter.write(p, tensors));
        assertMessage(e, p.toString(), "key 'flags'", "cannot write ND4J type BOOL",
                "expected FLOAT, DOUBLE, HALF or BFLOAT16 (written as F32), LONG (I64) or INT (I32)");
        assertEquals("old contents", Files.readString(p));
        assertEquals(List.of(p), listDir());
    }

    @Test
    void refusesBadKeysAndTargets() {
        Path p = tmp.resolve("x.safetensors");
        INDArray one = Nd4j.create(new float[]{1}, new long[]{1}, 'c');
        assertMessage(assertThrows(MorException.class,
                        () -> SafetensorsWriter.write(p, Map.of("__metadata__", one))),
                p.toString(), "key '__metadata__'", "reserved for metadata");
        assertMessage(assertThrows(MorException.class, () -> SafetensorsWriter.write(p, Map.of("", one))),
                p.toString(), "expected a non-empty key");
        Map<String, INDArray> nullValue = new LinkedHashMap<>();
        nullValue.put("w", null);
        assertMessage(assertThrows(MorException.class, () -> SafetensorsWriter.write(p, nullValue)),
                p.toString(), "key 'w'", "array is null");
        Path noDir = tmp.resolve("missing").resolve("x.safetensors");
        assertMessage(assertThrows(MorException.class, () -> SafetensorsWriter.write(noDir, Map.of("w", one))),
                noDir.toString(), "does not exist");
        assertMessage(assertThrows(MorException.class, () -> SafetensorsWriter.write(tmp, Map.of("w", one))),
                tmp.toString(), "is a directory");
        assertFalse(Files.exists(p));
    }

    @Test
    void keysSortByCodePointLikeUtf8Bytes() {
        // U+FF21 (fullwidth A) sorts before U+1F600 (an emoji, a surrogate pair in UTF-16) in UTF-8 byte order,
        // although String.compareTo puts the surrogate (0xD83D) first
        assertTrue(SafetensorsWriter.compareCodePoints("\uFF21", "\uD83D\uDE00") < 0);
        assertTrue("\uFF21".compareTo("\uD83D\uDE00") > 0);
        assertTrue(SafetensorsWriter.compareCodePoints("a", "ab") < 0);
        assertEquals(0, SafetensorsWriter.compareCodePoints("x.y", "x.y"));
    }

    /**
     * The streaming path writes FLOAT, DOUBLE, BFLOAT16 and HALF arrays as F32 (bit for bit), BF16 and F16
     * (rounded as HalfFloats rounds), across more than one 1 MiB chunk, and reads them back exactly.
     */
    @Test
    void streamsEveryFloatArrayTypeIntoEachFloatDtype() {
        int n = 600_001; // over one chunk of 2-byte elements (524288)
        float[] base = new float[n];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            base[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(-30, 20)));
        }
        float[] edges = {0f, -0.0f, Float.MIN_VALUE, 65504f, 65520f, -70000f, 1e-8f, Float.POSITIVE_INFINITY,
            Float.MAX_VALUE, 0.1f, -1f / 3};
        System.arraycopy(edges, 0, base, 0, edges.length);
        INDArray floats = Nd4j.create(base, new long[]{n}, 'c'); // [n]
        Map<String, INDArray> sources = new LinkedHashMap<>();
        sources.put("float", floats.reshape('c', 1, n)); // [1, n]
        sources.put("double", floats.castTo(DataType.DOUBLE).reshape('c', n, 1)); // [n, 1]
        sources.put("bf16", floats.castTo(DataType.BFLOAT16)); // [n]
        sources.put("half", floats.castTo(DataType.HALF)); // [n]
        sources.put("view", floats.reshape('c', 1, n).transpose()); // [n, 1], 'f' order view
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F16)) {
            List<TensorSpec> specs = new ArrayList<>();
            sources.forEach((k, a) -> specs.add(new TensorSpec(k, dtype, a.shape())));
            Path p = tmp.resolve(dtype + ".safetensors");
            SafetensorsWriter.write(p, specs, s -> TensorValues.of(sources.get(s.key())), Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                for (Map.Entry<String, INDArray> e : sources.entrySet()) {
                    assertEquals(dtype, f.info(e.getKey()).dtype());
                    assertArrayEquals(e.getValue().shape(), f.info(e.getKey()).shape());
                    float[] source = e.getValue().castTo(DataType.FLOAT).dup('c').data().asFloat();
                    float[] expected = new float[n];
                    for (int i = 0; i < n; i++) {
                        expected[i] = switch (dtype) {
                            case F32 -> source[i];
                            case BF16 -> HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(source[i]));
                            case F16 -> HalfFloats.halfToFloat(HalfFloats.floatToHalf(source[i]));
                            default -> throw new AssertionError(dtype);
                        };
                    }
                    assertBitsEqual(expected, f.floatData(e.getKey()));
                }
            }
        }
    }

    @Test
    void streamingRefusesValuesOfAnotherShapeAndLeavesNoFile() throws IOException {
        Path p = tmp.resolve("bad.safetensors");
        List<TensorSpec> specs = List.of(new TensorSpec("a", DType.BF16, new long[]{2, 3}),
                new TensorSpec("b", DType.I64, new long[]{2}));
        assertMessage(assertThrows(MorException.class, () -> SafetensorsWriter.write(p, specs.subList(0, 1),
                        s -> TensorValues.of(new float[6], 3, 2), null)),
                p.toString(), "key 'a'", "the values have shape [3, 2]; expected [2, 3]");
        assertMessage(assertThrows(MorException.class, () -> SafetensorsWriter.write(p, specs,
                        s -> TensorValues.of(new float[(int) s.numel()], s.shape()), null)),
                p.toString(), "key 'b'", "cannot be written as an integer tensor");
        assertMessage(assertThrows(MorException.class, () -> SafetensorsWriter.write(p, List.of(specs.get(0),
                        specs.get(0)), s -> null, null)),
                p.toString(), "key 'a' is given twice");
        assertEquals(List.of(), listDir());
    }

    private List<Path> listDir() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.toList();
        }
    }

    private static byte[] fileBytes(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).put(data).array();
    }

    private static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "index " + i);
        }
    }
}
