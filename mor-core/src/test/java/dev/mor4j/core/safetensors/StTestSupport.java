package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Helpers shared by the safetensors tests: fixture paths and hand-built files. */
final class StTestSupport {

    private StTestSupport() {
    }

    /** Writes the 8-byte little-endian {@code declaredHeaderLength}, then {@code header}, then {@code data}. */
    static Path writeRaw(Path file, long declaredHeaderLength, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredHeaderLength).put(header).put(data);
        Files.write(file, b.array());
        return file;
    }

    /** A safetensors file with this header JSON (stored as is, its true length declared) and data bytes. */
    static Path writeRaw(Path file, String headerJson, byte[] data) throws IOException {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        return writeRaw(file, header.length, header, data);
    }

    static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] i64(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    static byte[] i32(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    /** 16-bit values (the low 16 bits of each int), little-endian. */
    static byte[] u16(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putShort((short) v);
        }
        return b.array();
    }

    /** Asserts the exception's message contains every part (each part checked and reported separately). */
    static void assertMessage(MorException e, String... parts) {
        String m = e.getMessage();
        for (String p : parts) {
            assertTrue(m.contains(p), () -> "message should contain <" + p + "> but was <" + m + ">");
        }
    }

    /** bfloat16 nearest to {@code f}, ties to even (how PyTorch converts), as a float. */
    static float roundToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return Float.intBitsToFloat((bits | 0x0040_0000) & 0xFFFF_0000);
        }
        int lsb = (bits >>> 16) & 1;
        int rounded = bits + 0x7FFF + lsb;
        return Float.intBitsToFloat(rounded & 0xFFFF_0000);
    }
}
