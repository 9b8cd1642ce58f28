package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.safetensors.SafetensorsWriter;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.config.LlamaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Checkpoints that do not match their config, and configurations other than the fixture's. */
class LlamaWeightsTest {

    @TempDir
    Path tmp;

    private static Map<String, INDArray> fixtureWeights() {
        Map<String, INDArray> w = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(TestData.model("tiny-llama-f32").resolve("model.safetensors"))) {
            for (String k : f.keys()) {
                w.put(k, f.getFloat(k));
            }
        }
        return w;
    }

    private Path writeModel(ObjectNode config, Map<String, INDArray> weights) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "model");
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), config);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), weights);
        return dir;
    }

    private static ObjectNode fixtureConfig() throws Exception {
        return (ObjectNode) new ObjectMapper().readTree(TestData.model("tiny-llama-f32").resolve("config.json").toFile());
    }

    @Test
    void everyMissingExtraAndMisshapedKeyIsListedInOneMessage() throws Exception {
        Map<String, INDArray> w = fixtureWeights();
        w.remove("model.layers.1.mlp.down_proj.weight");
        w.put("model.layers.0.mlp.up_proj.weight", Nd4j.zeros(DataType.FLOAT, 32, 88));
        w.put("model.layers.9.mlp.up_proj.weight", Nd4j.zeros(DataType.FLOAT, 2, 2));
        Path dir = writeModel(fixtureConfig(), w);
        MorException e = assertThrows(MorException.class, () -> LlamaModel.load(dir));
        String m = e.getMessage();
        assertTrue(m.contains("3 problems"), m);
        assertTrue(m.contains("model.layers.1.mlp.down_proj.weight: missing, expected shape [32, 88]"), m);
        assertTrue(m.contains("model.layers.0.mlp.up_proj.weight: expected [88, 32], got [32, 88]"), m);
        assertTrue(m.contains("model.layers.9.mlp.up_proj.weight: unexpected key"), m);
    }

    @Test
    void tiedEmbeddingsUseTheEmbeddingAsLmHead() throws Exception {
        Map<String, INDArray> w = fixtureWeights();
        w.remove("lm_head.weight");
        ObjectNode cfg = fixtureConfig();
        cfg.put("tie_word_embeddings", true);
        LlamaModel m = LlamaModel.load(writeModel(cfg, w));
        assertEquals(w.get("model.embed_tokens.weight"), m.weights().linear("lm_head").weight());
        LlamaForward.Result r = LlamaForward.run(LlamaGraph.base(m.weights(), GraphKind.INFERENCE),
                new Batch(new long[][] {{1, 5, 9}}, null, null));
        assertArrayEquals(new long[] {1, 3, 32000}, r.logits().shape());
    }

    @Test
    void f16CheckpointComputesLikeItsFloat32Values() throws Exception {
        // F16 values upcast on load must give exactly the logits of the same values stored as F32.
        Map<String, INDArray> w = fixtureWeights();
        Map<String, INDArray> half = new LinkedHashMap<>();
        Map<String, INDArray> roundTripped = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : w.entrySet()) {
            INDArray h = e.getValue().castTo(DataType.HALF);
            half.put(e.getKey(), h);
            roundTripped.put(e.getKey(), h.castTo(DataType.FLOAT));
        }
        Path f16 = Files.createTempDirectory(tmp, "f16");
        new ObjectMapper().writeValue(f16.resolve("config.json").toFile(), fixtureConfig());
        writeHalf(f16.resolve("model.safetensors"), half);
        Path f32 = writeModel(fixtureConfig(), roundTripped);
        Batch batch = new Batch(new long[][] {{1, 300, 7, 19}}, null, null);
        INDArray a = LlamaForward.run(LlamaGraph.base(LlamaModel.load(f16).weights(), GraphKind.INFERENCE), batch)
                .logits();
        INDArray b = LlamaForward.run(LlamaGraph.base(LlamaModel.load(f32).weights(), GraphKind.INFERENCE), batch)
                .logits();
        assertEquals(0.0, TestData.maxAbsDiff(a, b));
    }

    /** Writes F16 tensors (the library's writer only writes F32/I64/I32). */
    private static void writeHalf(Path file, Map<String, INDArray> tensors) throws Exception {
        StringBuilder header = new StringBuilder("{");
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            INDArray a = e.getValue().dup('c');
            long begin = data.size();
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate((int) a.length() * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            INDArray bits = a.reshape(-1);
            for (long i = 0; i < a.length(); i++) {
                bb.putShort(halfBits(bits.getFloat(i)));
            }
            data.write(bb.array());
            header.append(header.length() > 1 ? "," : "").append('"').append(e.getKey()).append("\":{\"dtype\":\"F16\",\"shape\":")
                    .append(java.util.Arrays.toString(a.shape()).replace(" ", "")).append(",\"data_offsets\":[")
                    .append(begin).append(',').append(data.size()).append("]}");
        }
        byte[] h = header.append('}').toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(h.length);
        try (var out = Files.newOutputStream(file)) {
            out.write(len.array());
            out.write(h);
            out.write(data.toByteArray());
        }
    }

    /** float → IEEE half bits for values already exactly representable in half (they came from a HALF cast). */
    private static short halfBits(float f) {
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mant = bits & 0x7fffff;
        if (f == 0f) {
            return (short) sign;
        }
        if (exp <= 0) { // subnormal half
            int m = (mant | 0x800000) >> (1 - exp);
            return (short) (sign | (m >> 13));
        }
        return (short) (sign | (exp << 10) | (mant >> 13));
    }

    @Test
    void otherSizesAndHeadCountsRun() throws Exception {
        // 3 layers, 6 heads of width 4 sharing 3 key/value heads, hidden 24, random weights.
        ObjectNode cfg = fixtureConfig();
        cfg.put("hidden_size", 24).put("intermediate_size", 40).put("num_hidden_layers", 3)
                .put("num_attention_heads", 6).put("num_key_value_heads", 3).put("head_dim", 4).put("vocab_size", 50);
        LlamaConfig c = LlamaConfig.fromJson(cfg, "test");
        Nd4j.getRandom().setSeed(3);
        Map<String, INDArray> w = new LinkedHashMap<>();
        LlamaWeights.expectedShapes(c).forEach((k, s) -> w.put(k, Nd4j.randn(DataType.FLOAT, s).muli(0.2)));
        LlamaModel m = LlamaModel.load(writeModel(cfg, w));
        long[][] ids = {{1, 2, 3, 4, 5}, {6, 7, 8, 0, 0}};
        long[][] mask = {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}};
        LlamaForward.Result full = LlamaForward.run(LlamaGraph.base(m.weights(), GraphKind.INFERENCE),
                new Batch(ids, mask, null));
        assertArrayEquals(new long[] {2, 5, 50}, full.logits().shape());
        // right padding must not change the real tokens' logits
        LlamaForward.Result alone = LlamaForward.run(LlamaGraph.base(m.weights(), GraphKind.INFERENCE),
                new Batch(new long[][] {{6, 7, 8}}, null, null));
        INDArray padded = full.logits().get(org.nd4j.linalg.indexing.NDArrayIndex.point(1),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3), org.nd4j.linalg.indexing.NDArrayIndex.all());
        assertTrue(TestData.maxAbsDiff(padded, alone.logits().reshape(3, 50)) < 1e-5);
    }

    @Test
    void inputIdOutsideTheVocabularyIsNamed() {
        LlamaModel m = LlamaModel.load(TestData.model("tiny-llama-f32"));
        MorException e = assertThrows(MorException.class, () -> LlamaForward.run(
                LlamaGraph.base(m.weights(), GraphKind.INFERENCE),
                new Batch(new long[][] {{1, 32000}}, null, null)));
        assertTrue(e.getMessage().contains("input_ids[0][1] = 32000") && e.getMessage().contains("[0, 32000)"), e.getMessage());
    }
}
