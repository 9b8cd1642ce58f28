package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.mor4j.core.safetensors.StTestSupport.assertMessage;
import static dev.mor4j.core.safetensors.StTestSupport.f32;
import static dev.mor4j.core.safetensors.StTestSupport.i32;
import static dev.mor4j.core.safetensors.StTestSupport.i64;
import static dev.mor4j.core.TestData.model;
import static dev.mor4j.core.safetensors.StTestSupport.u16;
import static dev.mor4j.core.safetensors.StTestSupport.writeRaw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsFileTest {

    @TempDir
    Path tmp;

    private static Path f32File() {
        return model("tiny-llama-f32").resolve("model.safetensors");
    }

    private static Path bf16File() {
        return model("tiny-llama-bf16").resolve("model.safetensors");
    }

    @Test
    void readsTinyLlamaF32Header() {
        try (SafetensorsFile f = SafetensorsFile.open(f32File())) {
            assertEquals(21, f.size()); // 2 layers x 9 + embed + norm + lm_head
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(2184, f.headerLength());
            assertEquals(8284800, f.dataLength());
            // header order: the Python library writes single-dtype files sorted by key
            List<String> keys = f.keys();
            assertEquals("lm_head.weight", keys.get(0));
            assertEquals("model.norm.weight", keys.get(keys.size() - 1));
            assertEquals(keys.stream().sorted().toList(), keys);

            TensorInfo lmHead = f.info("lm_head.weight");
            assertEquals(DType.F32, lmHead.dtype());
            assertArrayEquals(new long[]{32000, 32}, lmHead.shape());
            assertEquals(0, lmHead.begin());
            assertEquals(4096000, lmHead.end());
            assertEquals(1024000, lmHead.numel());

            assertArrayEquals(new long[]{32, 88}, f.info("model.layers.0.mlp.down_proj.weight").shape());
            assertArrayEquals(new long[]{88, 32}, f.info("model.layers.1.mlp.gate_proj.weight").shape());
            assertArrayEquals(new long[]{16, 32}, f.info("model.layers.0.self_attn.k_proj.weight").shape());
            TensorInfo norm = f.info("model.norm.weight");
            assertArrayEquals(new long[]{32}, norm.shape());
            assertEquals(8284672, norm.begin());
            assertEquals(8284800, norm.end());
        }
    }

    @Test
    void getFloatGivesFloatArrayOfTheStoredShape() {
        try (SafetensorsFile f = SafetensorsFile.open(f32File())) {
            String key = "model.layers.0.mlp.down_proj.weight";
            float[] data = f.floatData(key);
            assertEquals(32 * 88, data.length);
            INDArray a = f.getFloat(key);
            assertEquals(DataType.FLOAT, a.dataType());
            assertArrayEquals(new long[]{32, 88}, a.shape());
            assertEquals('c', a.ordering());
            // row-major: element (i, j) is data[i * 88 + j]
            assertEquals(data[0], a.getFloat(0, 0));
            assertEquals(data[87], a.getFloat(0, 87));
            assertEquals(data[88], a.getFloat(1, 0));
            assertEquals(data[5 * 88 + 17], a.getFloat(5, 17));
            assertArrayEquals(data, a.data().asFloat());
            // norm weights are random, not ones
            float[] norm = f.floatData("model.norm.weight");
            assertFalse(allEqual(norm, 1f));
        }
    }

    @Test
    void bf16FileIsTheF32FileRoundedToNearestEven() {
        try (SafetensorsFile f32 = SafetensorsFile.open(f32File());
             SafetensorsFile bf16 = SafetensorsFile.open(bf16File())) {
            assertEquals(f32.keys(), bf16.keys());
            double maxAbsDiff = 0;
            long compared = 0;
            for (String key : f32.keys()) {
                assertEquals(DType.BF16, bf16.info(key).dtype());
                assertArrayEquals(f32.info(key).shape(), bf16.info(key).shape());
                float[] exact = f32.floatData(key);
                float[] rounded = bf16.floatData(key);
                INDArray asArray = bf16.getFloat(key);
                assertEquals(DataType.FLOAT, asArray.dataType());
                assertArrayEquals(rounded, asArray.data().asFloat());
                for (int i = 0; i < exact.length; i++) {
                    float expected = StTestSupport.roundToBf16(exact[i]);
                    if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(rounded[i])) {
                        throw new AssertionError(key + "[" + i + "]: f32 " + exact[i] + " should round to bf16 "
                                + expected + " but the BF16 file gave " + rounded[i]);
                    }
                    double diff = Math.abs((double) exact[i] - rounded[i]);
                    // 8 significant bits: the rounding error is at most half a unit in the last place
                    assertTrue(diff <= Math.abs(exact[i]) * 0x1p-8, key + "[" + i + "]");
                    maxAbsDiff = Math.max(maxAbsDiff, diff);
                    compared++;
                }
            }
            assertEquals(2071200, compared);
            assertTrue(maxAbsDiff > 0, "bf16 values should differ from the f32 ones");
            assertTrue(maxAbsDiff < 1e-2, "max |f32 - bf16| = " + maxAbsDiff);
        }
    }

    /** 16-bit tensors stay 16-bit in memory: the same values as the upcast read, bit for bit, in half the bytes. */
    @Test
    void getStoredKeepsTheFileTypeWithTheSameValues() throws IOException {
        try (SafetensorsFile bf16 = SafetensorsFile.open(bf16File()); SafetensorsFile f32 = SafetensorsFile.open(f32File())) {
            for (String key : bf16.keys()) {
                INDArray stored = bf16.getStored(key);
                assertEquals(DataType.BFLOAT16, stored.dataType(), key);
                assertArrayEquals(bf16.info(key).shape(), stored.shape(), key);
                assertArrayEquals(bf16.floatData(key), stored.castTo(DataType.FLOAT).data().asFloat(), key);
                INDArray exact = f32.getStored(key);
                assertEquals(DataType.FLOAT, exact.dataType(), key);
                assertArrayEquals(f32.floatData(key), exact.data().asFloat(), key);
            }
        }
        int[] halves = {0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0001, 0x03FF};
        Path p = writeRaw(tmp.resolve("half.safetensors"),
                "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]}}", u16(halves));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            INDArray a = f.getStored("h");
            assertEquals(DataType.HALF, a.dataType());
            assertArrayEquals(f.floatData("h"), a.castTo(DataType.FLOAT).data().asFloat());
        }
    }

    @Test
    void f16BuiltInMemory() throws IOException {
        int[] halves = {0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x7C00, 0xFC00, 0x8000, 0x7E00, 0x0000};
        float[] expected = {1f, -2f, 0.333251953125f, 65504f, 0x1p-24f, 0x1.ff8p-15f, 0x1p-14f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, Float.NaN, 0f};
        Path p = writeRaw(tmp.resolve("half.safetensors"),
                "{\"h\":{\"dtype\":\"F16\",\"shape\":[3,4],\"data_offsets\":[0,24]}}", u16(halves));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(DType.F16, f.info("h").dtype());
            float[] values = f.floatData("h");
            assertArrayEquals(expected, values); // compares bit patterns: -0.0 and NaN included
            INDArray a = f.getFloat("h");
            assertEquals(DataType.FLOAT, a.dataType());
            assertArrayEquals(new long[]{3, 4}, a.shape());
            assertEquals(0x1.ff8p-15f, a.getFloat(1, 1));
            assertEquals(Float.POSITIVE_INFINITY, a.getFloat(1, 3));
            assertTrue(Float.isNaN(a.getFloat(2, 2)));
        }
    }

    @Test
    void integersScalarsAndEmptyTensors() throws IOException {
        String header = "{\"__metadata__\":{\"step\":\"7\",\"note\":\"ünïcode ✓\"},"
                + "\"ids\":{\"dtype\":\"I64\",\"shape\":[2,2],\"data_offsets\":[0,32]},"
                + "\"small\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[32,44]},"
                + "\"scale\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[44,48]},"
                + "\"none\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[48,48]},"
                + "\"none2\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[48,48]}}";
        byte[] data = concat(i64(Long.MIN_VALUE, -1, 0, Long.MAX_VALUE), i32(Integer.MIN_VALUE, -7, Integer.MAX_VALUE),
                f32(2.5f));
        Path p = writeRaw(tmp.resolve("ints.safetensors"), header, data);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("ids", "small", "scale", "none", "none2"), f.keys());
            assertEquals(Map.of("step", "7", "note", "ünïcode ✓"), f.metadata());
            assertArrayEquals(new long[]{Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}, f.longData("ids"));
            INDArray ids = f.getLong("ids");
            assertEquals(DataType.LONG, ids.dataType());
            assertArrayEquals(new long[]{2, 2}, ids.shape());
            assertEquals(Long.MAX_VALUE, ids.getLong(1, 1));
            assertEquals(Long.MIN_VALUE, ids.getLong(0, 0));

            INDArray small = f.getLong("small");
            assertEquals(DataType.LONG, small.dataType());
            assertArrayEquals(new long[]{3}, small.shape());
            assertArrayEquals(new long[]{Integer.MIN_VALUE, -7, Integer.MAX_VALUE}, small.data().asLong());
            assertEquals(DType.I32, f.info("small").dtype());

            INDArray scale = f.getFloat("scale");
            assertEquals(0, scale.rank());
            assertEquals(2.5f, scale.getFloat(0));
            assertEquals(1, f.info("scale").numel());

            INDArray none = f.getFloat("none");
            assertTrue(none.isEmpty());
            assertArrayEquals(new long[]{0, 4}, none.shape());
            assertEquals(0, f.floatData("none").length);
            assertTrue(f.getLong("none2").isEmpty());
        }
    }

    @Test
    void headerOrderIsKeptEvenWhenNotSorted() throws IOException {
        String header = "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"__metadata__\":null}";
        Path p = writeRaw(tmp.resolve("order.safetensors"), header, f32(1f, 2f));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("b", "a"), f.keys());
            assertEquals(Map.of(), f.metadata());
            assertArrayEquals(new float[]{2f}, f.floatData("b"));
            assertArrayEquals(new float[]{1f}, f.floatData("a"));
        }
    }

    @Test
    void smallMappingWindowsReadTheSameValues() {
        try (SafetensorsFile whole = SafetensorsFile.open(f32File());
             SafetensorsFile windowed = SafetensorsFile.open(f32File(), 40_000);
             SafetensorsFile odd = SafetensorsFile.open(f32File(), 7); // rounded down to whole floats: 4 bytes
             SafetensorsFile bf16 = SafetensorsFile.open(bf16File());
             SafetensorsFile bf16Windowed = SafetensorsFile.open(bf16File(), 30_001);
             SafetensorsFile bf16Odd = SafetensorsFile.open(bf16File(), 3)) {
            for (String key : List.of("lm_head.weight", "model.layers.1.mlp.up_proj.weight", "model.norm.weight")) {
                assertArrayEquals(whole.floatData(key), windowed.floatData(key), key);
                assertArrayEquals(bf16.floatData(key), bf16Windowed.floatData(key), key);
            }
            String small = "model.layers.0.self_attn.v_proj.weight";
            assertArrayEquals(whole.floatData(small), odd.floatData(small));
            assertArrayEquals(bf16.floatData(small), bf16Odd.floatData(small));
        }
    }

    /** Offsets past 4 GiB in a sparse file: per-tensor mapping, and a clear refusal of an oversized tensor. */
    @Test
    void fileLargerThan4GiB() throws IOException {
        long fillerElements = 1L << 31; // BF16: 4 GiB, more elements than a Java array holds
        long fillerEnd = 16 + fillerElements * 2;
        String header = "{\"head\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"filler\":{\"dtype\":\"BF16\",\"shape\":[" + fillerElements + "],\"data_offsets\":[16,"
                + fillerEnd + "]},"
                + "\"tail\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[" + fillerEnd + "," + (fillerEnd + 16)
                + "]}}";
        byte[] headerBytes = header.getBytes(StandardCharsets.UTF_8);
        Path p = tmp.resolve("big.safetensors");
        writeRaw(p, headerBytes.length, headerBytes, f32(1f, 2f, 3f, 4f));
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.seek(8 + headerBytes.length + fillerEnd); // leaves a hole: the file stays sparse
            raf.write(i64(123456789012345L, -42));
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(fillerEnd + 16, f.dataLength());
            assertArrayEquals(new float[]{1f, 2f, 3f, 4f}, f.floatData("head"));
            assertArrayEquals(new long[]{123456789012345L, -42}, f.longData("tail"));
            MorException e = assertThrows(MorException.class, () -> f.floatData("filler"));
            assertMessage(e, p.toString(), "key 'filler'", "2147483648 elements", "cannot be loaded whole");
        }
    }

    @Test
    void wrongKindOfReadNamesKeyAndDtype() {
        try (SafetensorsFile f = SafetensorsFile.open(f32File())) {
            MorException e = assertThrows(MorException.class, () -> f.getLong("model.norm.weight"));
            assertMessage(e, f32File().toString(), "key 'model.norm.weight'", "dtype F32",
                    "expected an integer tensor (I64 or I32)");
        }
    }

    @Test
    void readingAfterCloseFails() {
        SafetensorsFile f = SafetensorsFile.open(f32File());
        float[] before = f.floatData("model.norm.weight");
        INDArray kept = f.getFloat("model.norm.weight");
        f.close();
        f.close(); // twice is fine
        assertThrows(IllegalStateException.class, () -> f.floatData("model.norm.weight"));
        // what was read stays valid
        assertArrayEquals(before, kept.data().asFloat());
        // the header is still known
        assertEquals(32, f.info("model.norm.weight").numel());
    }

    private static boolean allEqual(float[] v, float x) {
        for (float f : v) {
            if (f != x) {
                return false;
            }
        }
        return true;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
