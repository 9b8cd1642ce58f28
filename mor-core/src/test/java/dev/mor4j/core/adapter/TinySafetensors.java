package dev.mor4j.core.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Just enough of a safetensors reader for the tests: F32 tensors by name. (An 8-byte little-endian header
 * length, a JSON header of {@code dtype}, {@code shape}, {@code data_offsets}, then the raw data.) Values go
 * through a {@code float[]}: ND4J must never be handed a heap ByteBuffer.
 */
final class TinySafetensors {

    private final byte[] bytes;
    private final JsonNode header;
    private final long dataStart;

    private TinySafetensors(byte[] bytes, JsonNode header, long dataStart) {
        this.bytes = bytes;
        this.header = header;
        this.dataStart = dataStart;
    }

    static TinySafetensors open(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, Math.toIntExact(n), StandardCharsets.UTF_8));
        return new TinySafetensors(bytes, header, 8 + n);
    }

    boolean has(String name) {
        return header.has(name);
    }

    /** A FLOAT array of the F32 tensor {@code name}. */
    INDArray f32(String name) {
        JsonNode t = header.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        if (!"F32".equals(t.get("dtype").asText())) {
            throw new IllegalArgumentException(name + ": expected F32, got " + t.get("dtype").asText());
        }
        long[] shape = new long[t.get("shape").size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = t.get("shape").get(i).asLong();
        }
        long begin = t.get("data_offsets").get(0).asLong();
        long end = t.get("data_offsets").get(1).asLong();
        float[] v = new float[Math.toIntExact((end - begin) / 4)];
        ByteBuffer.wrap(bytes, Math.toIntExact(dataStart + begin), Math.toIntExact(end - begin))
                .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return Nd4j.create(v, shape, 'c');
    }
}
