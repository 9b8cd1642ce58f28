package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.mor4j.core.safetensors.StTestSupport.assertMessage;
import static dev.mor4j.core.safetensors.StTestSupport.f32;
import static dev.mor4j.core.safetensors.StTestSupport.i64;
import static dev.mor4j.core.TestData.model;
import static dev.mor4j.core.safetensors.StTestSupport.writeRaw;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every kind of broken file is refused on opening, with a message naming the file, the key and the rule. */
class SafetensorsFileErrorsTest {

    @TempDir
    Path tmp;

    private MorException openFails(Path p) {
        return assertThrows(MorException.class, () -> SafetensorsFile.open(p).close());
    }

    /** A one-tensor file: {@code w} with the given dtype, shape and offsets, over {@code data}. */
    private Path oneTensor(String dtype, String shape, String offsets, byte[] data) throws IOException {
        return writeRaw(tmp.resolve("one.safetensors"), "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape
                + ",\"data_offsets\":" + offsets + "}}", data);
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        Path p = Files.write(tmp.resolve("short.safetensors"), new byte[]{1, 2, 3, 4, 5});
        assertMessage(openFails(p), p.toString(), "file is 5 bytes long", "8-byte header length");
        Path empty = Files.write(tmp.resolve("empty.safetensors"), new byte[0]);
        assertMessage(openFails(empty), empty.toString(), "file is 0 bytes long");
    }

    @Test
    void truncatedDataSection() throws IOException {
        byte[] whole = Files.readAllBytes(model("tiny-llama-f32").resolve("model.safetensors"));
        Path p = Files.write(tmp.resolve("truncated.safetensors"), Arrays.copyOf(whole, 1_000_000));
        // the header is intact: 8 + 2184 bytes, so 997808 bytes of data remain
        assertMessage(openFails(p), p.toString(), "key 'lm_head.weight'",
                "data_offsets [0, 4096000] exceed the data section (997808 bytes)");

        Path cut = Files.write(tmp.resolve("cut.safetensors"), Arrays.copyOf(whole, whole.length - 1));
        assertMessage(openFails(cut), cut.toString(), "key 'model.norm.weight'",
                "data_offsets [8284672, 8284800] exceed the data section (8284799 bytes)");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        Path p = writeRaw(tmp.resolve("long.safetensors"), 1000, header, new byte[10]);
        assertMessage(openFails(p), p.toString(), "header length 1000 bytes exceeds the file",
                "only 12 bytes follow the 8-byte length");

        // the whole f32 fixture with its header truncated
        byte[] whole = Files.readAllBytes(model("tiny-llama-f32").resolve("model.safetensors"));
        Path cut = Files.write(tmp.resolve("cut-header.safetensors"), Arrays.copyOf(whole, 100));
        assertMessage(openFails(cut), cut.toString(), "header length 2184 bytes exceeds the file",
                "only 92 bytes follow");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        Path p = writeRaw(tmp.resolve("huge.safetensors"), 1L << 40, header, new byte[0]);
        assertMessage(openFails(p), p.toString(), "header length 1099511627776 bytes",
                "over the 100000000-byte limit");
        Path q = writeRaw(tmp.resolve("negative.safetensors"), -1L, header, new byte[0]);
        assertMessage(openFails(q), q.toString(), "header length 18446744073709551615 bytes",
                "over the 100000000-byte limit");
    }

    @Test
    void headerIsNotJson() throws IOException {
        Path p = writeRaw(tmp.resolve("bad.safetensors"), "{\"w\":{\"dtype\":\"F32\",", new byte[0]);
        assertMessage(openFails(p), p.toString(), "header is not valid JSON",
                "expected a JSON object mapping tensor keys to {dtype, shape, data_offsets}");

        Path q = writeRaw(tmp.resolve("text.safetensors"), "PK\u0003\u0004 not json at all", new byte[0]);
        assertMessage(openFails(q), q.toString(), "header is not valid JSON");

        Path trailing = writeRaw(tmp.resolve("trailing.safetensors"), "{} {}", new byte[0]);
        assertMessage(openFails(trailing), trailing.toString(), "header is not valid JSON",
                "more content after the JSON object");
    }

    @Test
    void headerIsNotAnObject() throws IOException {
        Path p = writeRaw(tmp.resolve("array.safetensors"), "[1, 2, 3]", new byte[0]);
        assertMessage(openFails(p), p.toString(), "header is an array", "expected a JSON object");
        Path blank = writeRaw(tmp.resolve("blank.safetensors"), "        ", new byte[0]);
        assertMessage(openFails(blank), blank.toString(), "header is empty", "expected a JSON object");
    }

    @Test
    void headerIsNotUtf8() throws IOException {
        byte[] header = "{\"w\u00ff\":{}}".getBytes(StandardCharsets.ISO_8859_1);
        Path p = writeRaw(tmp.resolve("latin1.safetensors"), header.length, header, new byte[0]);
        assertMessage(openFails(p), p.toString(), "header is not valid UTF-8", "header offset 3");
    }

    @Test
    void duplicateKey() throws IOException {
        Path p = writeRaw(tmp.resolve("dup.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", f32(1, 2));
        assertMessage(openFails(p), p.toString(), "not valid JSON", "'w'");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        Path p = oneTensor("F32", "[4]", "[0,16]", f32(1, 2, 3));
        assertMessage(openFails(p), p.toString(), "key 'w'",
                "data_offsets [0, 16] exceed the data section (12 bytes)");
    }

    @Test
    void offsetsReversed() throws IOException {
        Path p = oneTensor("F32", "[0]", "[8,4]", f32(1, 2, 3));
        assertMessage(openFails(p), p.toString(), "key 'w'", "data_offsets [8, 4] are reversed",
                "expected begin <= end");
    }

    @Test
    void overlappingOffsets() throws IOException {
        Path p = writeRaw(tmp.resolve("overlap.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", f32(1, 2, 3, 4));
        assertMessage(openFails(p), p.toString(), "key 'b'", "data_offsets [4, 12] overlap those of key 'a' [0, 8]");

        // one tensor inside another
        Path q = writeRaw(tmp.resolve("inside.safetensors"),
                "{\"big\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                        + "\"small\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[8,12]}}", f32(1, 2, 3, 4));
        assertMessage(openFails(q), q.toString(), "key 'small'", "overlap those of key 'big' [0, 16]");
    }

    @Test
    void byteCountDiffersFromShapeTimesDtypeSize() throws IOException {
        Path p = oneTensor("F32", "[3]", "[0,8]", f32(1, 2, 3));
        assertMessage(openFails(p), p.toString(), "key 'w'",
                "data_offsets [0, 8] hold 8 bytes, but dtype F32 with shape [3] needs 3 x 4 = 12 bytes");
        Path q = oneTensor("BF16", "[2,2]", "[0,16]", f32(1, 2, 3, 4));
        assertMessage(openFails(q), q.toString(), "key 'w'",
                "hold 16 bytes, but dtype BF16 with shape [2, 2] needs 4 x 2 = 8 bytes");
    }

    @Test
    void shapeOverflowingALong() throws IOException {
        Path p = oneTensor("F32", "[4294967296,4294967296,4294967296]", "[0,4]", f32(1));
        assertMessage(openFails(p), p.toString(), "key 'w'",
                "shape [4294967296, 4294967296, 4294967296] has more elements than a 64-bit count holds");
    }

    @ParameterizedTest
    @ValueSource(strings = {"F64", "U8", "F8_E4M3", "I16", "BOOL"})
    void unknownDtype(String dtype) throws IOException {
        Path p = oneTensor(dtype, "[1]", "[0,8]", i64(1));
        assertMessage(openFails(p), p.toString(), "key 'w'", "unsupported dtype '" + dtype + "'",
                "(supported: F32, F16, BF16, I64, I32)");
    }

    @Test
    void missingOrMistypedFields() throws IOException {
        Path noOffsets = writeRaw(tmp.resolve("a.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", f32(1));
        assertMessage(openFails(noOffsets), noOffsets.toString(), "key 'w'", "missing \"data_offsets\"");

        Path noDtype = writeRaw(tmp.resolve("b.safetensors"), "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}",
                f32(1));
        assertMessage(openFails(noDtype), noDtype.toString(), "key 'w'", "missing \"dtype\"");

        Path numberDtype = writeRaw(tmp.resolve("c.safetensors"),
                "{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", f32(1));
        assertMessage(openFails(numberDtype), numberDtype.toString(), "key 'w'", "\"dtype\" is a number (32)",
                "expected a string such as \"F32\"");

        Path negative = oneTensor("F32", "[2,-1]", "[0,4]", f32(1));
        assertMessage(openFails(negative), negative.toString(), "key 'w'", "\"shape\" is [2,-1]",
                "expected an array of non-negative integers");

        Path fractional = oneTensor("F32", "[1.5]", "[0,4]", f32(1));
        assertMessage(openFails(fractional), fractional.toString(), "key 'w'", "\"shape\" is [1.5]");

        Path threeOffsets = oneTensor("F32", "[1]", "[0,4,8]", f32(1, 2));
        assertMessage(openFails(threeOffsets), threeOffsets.toString(), "key 'w'", "\"data_offsets\" is [0,4,8]",
                "expected an array of 2 non-negative integers");

        Path notObject = writeRaw(tmp.resolve("d.safetensors"), "{\"w\":[1,2]}", f32(1));
        assertMessage(openFails(notObject), notObject.toString(), "key 'w'",
                "expected an object {\"dtype\", \"shape\", \"data_offsets\"}, found an array");
    }

    @Test
    void metadataMustMapStringsToStrings() throws IOException {
        Path p = writeRaw(tmp.resolve("meta.safetensors"), "{\"__metadata__\":{\"format\":\"pt\",\"step\":7}}",
                new byte[0]);
        assertMessage(openFails(p), p.toString(), "key '__metadata__'", "entry 'step' is a number (7)",
                "expected a string");
        Path q = writeRaw(tmp.resolve("meta2.safetensors"), "{\"__metadata__\":[\"pt\"]}", new byte[0]);
        assertMessage(openFails(q), q.toString(), "key '__metadata__'", "expected an object of string values",
                "found an array");
    }

    @Test
    void missingKeyNamesFileAndKey() {
        Path f32 = model("tiny-llama-f32").resolve("model.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(f32)) {
            MorException e = assertThrows(MorException.class, () -> f.getFloat("model.layers.2.mlp.up_proj.weight"));
            assertMessage(e, f32.toString(), "no tensor with key 'model.layers.2.mlp.up_proj.weight'",
                    "the file holds 21 tensors");
            MorException typo = assertThrows(MorException.class, () -> f.info("model.norm.weigth"));
            assertMessage(typo, f32.toString(), "key 'model.norm.weigth'", "did you mean 'model.norm.weight'?");
            MorException far = assertThrows(MorException.class, () -> f.floatData("x"));
            assertMessage(far, f32.toString(), "key 'x'");
        }
    }

    @Test
    void floatReadOfIntegerTensor() throws IOException {
        Path p = oneTensor("I64", "[1]", "[0,8]", i64(5));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            MorException e = assertThrows(MorException.class, () -> f.getFloat("w"));
            assertMessage(e, p.toString(), "key 'w'", "has dtype I64",
                    "expected a floating-point tensor (F32, F16 or BF16)");
        }
    }

    @Test
    void notAFile() {
        Path missing = tmp.resolve("nope.safetensors");
        assertMessage(openFails(missing), missing.toString(), "file not found");
        assertMessage(openFails(tmp), tmp.toString(), "is a directory", "expected a .safetensors file");
    }
}
