package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;

import static dev.mor4j.core.safetensors.StTestSupport.assertMessage;
import static dev.mor4j.core.TestData.model;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardedCheckpointWriterTest {

    @TempDir
    Path tmp;

    /** The bundled tiny LLaMA's keys in LlamaForCausalLM's state_dict() order (the order that decides a split). */
    private static List<String> stateDictOrder(int layers) {
        List<String> keys = new ArrayList<>();
        keys.add("model.embed_tokens.weight");
        for (int l = 0; l < layers; l++) {
            for (String m : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "input_layernorm", "post_attention_layernorm")) {
                keys.add("model.layers." + l + "." + m + ".weight");
            }
        }
        keys.add("model.norm.weight");
        keys.add("lm_head.weight");
        return keys;
    }

    /** Rewrites a fixture checkpoint's tensors in {@code dtype} through the writer. */
    private ShardPlan rewrite(String fixture, DType dtype, long maxShardSize, Path out) {
        try (ShardedCheckpoint in = ShardedCheckpoint.open(model(fixture))) {
            List<TensorSpec> specs = new ArrayList<>();
            for (String k : stateDictOrder(2)) {
                specs.add(new TensorSpec(k, dtype, in.info(k).shape()));
            }
            return ShardedCheckpointWriter.write(out, specs, s -> TensorValues.of(in.getFloat(s.key())), maxShardSize);
        }
    }

    private static void assertSameBytes(Path expected, Path actual) throws IOException {
        byte[] e = Files.readAllBytes(expected);
        byte[] a = Files.readAllBytes(actual);
        assertEquals(e.length, a.length, actual.getFileName().toString());
        assertTrue(java.util.Arrays.equals(e, a), actual.getFileName() + " differs from the fixture");
    }

    /** transformers' own sharded save (3 shards: two oversized tensors, then the rest) reproduced byte for byte. */
    @Test
    void reproducesTransformersShardedSaveByteForByte() throws IOException {
        ShardPlan plan = rewrite("tiny-llama-sharded", DType.F32, 1_000_000, tmp);
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors"), plan.shards().stream().map(ShardPlan.Shard::fileName).toList());
        assertEquals(8_284_800, plan.totalSize());
        for (String f : List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors", "model.safetensors.index.json")) {
            assertSameBytes(model("tiny-llama-sharded").resolve(f), tmp.resolve(f));
        }
        assertEquals(4, listDir(tmp).size());
    }

    /** Everything within one shard: a single model.safetensors and no index, here BF16 as transformers saved it. */
    @Test
    void singleShardIsModelSafetensorsWithoutIndex() throws IOException {
        ShardPlan plan = rewrite("tiny-llama-bf16", DType.BF16, ShardedCheckpointWriter.DEFAULT_MAX_SHARD_SIZE, tmp);
        assertFalse(plan.isSharded());
        assertEquals(List.of(tmp.resolve("model.safetensors")), listDir(tmp));
        assertSameBytes(model("tiny-llama-bf16").resolve("model.safetensors"), tmp.resolve("model.safetensors"));
    }

    /**
     * The greedy split on sizes 40, 40, 120, 28, 72, 10 bytes with a 100-byte limit: the oversized tensor gets a
     * shard at once, a shard may reach the limit exactly, the shard being filled comes last.
     */
    @Test
    void shardBoundariesFollowTransformersRule() throws IOException {
        long[][] shapes = {{10}, {10}, {30}, {7}, {6, 6}, {5}};
        DType[] dtypes = {DType.F32, DType.F32, DType.F32, DType.F32, DType.F16, DType.BF16};
        List<TensorSpec> specs = new ArrayList<>();
        Map<String, float[]> data = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < shapes.length; i++) {
            String key = "t" + (char) ('f' - i); // tf, te, ..., ta: not in alphabetical order
            specs.add(new TensorSpec(key, dtypes[i], shapes[i]));
            float[] v = new float[(int) TensorInfo.numel(shapes[i])];
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) rnd.nextGaussian();
            }
            data.put(key, v);
        }
        // bytes: tf 40, te 40, td 120, tc 28, tb 72 (F16 [6, 6]), ta 10 (BF16)
        ShardPlan plan = ShardedCheckpointWriter.write(tmp, specs,
                s -> TensorValues.of(data.get(s.key()), s.shape()), 100);
        List<List<String>> split = plan.shards().stream()
                .map(s -> s.tensors().stream().map(TensorSpec::key).toList()).toList();
        assertEquals(List.of(List.of("td"), List.of("tf", "te"), List.of("tc", "tb"), List.of("ta")), split);
        assertEquals(List.of(120L, 80L, 100L, 10L), plan.shards().stream().map(ShardPlan.Shard::byteSize).toList());
        String index = Files.readString(tmp.resolve("model.safetensors.index.json"));
        assertEquals("""
                {
                  "metadata": {
                    "total_parameters": 98,
                    "total_size": 310
                  },
                  "weight_map": {
                    "ta": "model-00004-of-00004.safetensors",
                    "tb": "model-00003-of-00004.safetensors",
                    "tc": "model-00003-of-00004.safetensors",
                    "td": "model-00001-of-00004.safetensors",
                    "te": "model-00002-of-00004.safetensors",
                    "tf": "model-00002-of-00004.safetensors"
                  }
                }
                """, index);
        try (ShardedCheckpoint back = ShardedCheckpoint.open(tmp)) {
            assertEquals(6, back.keys().size());
            assertEquals(tmp.resolve("model-00003-of-00004.safetensors").toAbsolutePath(),
                    back.shardOf("tb").toAbsolutePath());
            for (TensorSpec s : specs) {
                assertEquals(s.dtype(), back.info(s.key()).dtype());
                assertArrayEquals(s.shape(), back.info(s.key()).shape());
                float[] expected = data.get(s.key()).clone();
                for (int j = 0; j < expected.length; j++) {
                    expected[j] = switch (s.dtype()) {
                        case F32 -> expected[j]; // bit for bit
                        case F16 -> HalfFloats.halfToFloat(HalfFloats.floatToHalf(expected[j]));
                        case BF16 -> HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(expected[j]));
                        default -> throw new AssertionError();
                    };
                }
                assertArrayEquals(expected, back.floatData(s.key()), s.key());
            }
            try (SafetensorsFile f = SafetensorsFile.open(back.shardOf("ta"))) {
                assertEquals(Map.of("format", "pt"), f.metadata());
            }
        }
    }

    @Test
    void indexEscapesKeysAsPythonJsonDumpsDoes() {
        StringBuilder b = new StringBuilder();
        ShardPlan.pythonString(b, "a\"b\\c\n\u0001é\u007f\uD83D\uDE00");
        assertEquals("\"a\\\"b\\\\c\\n\\u0001\\u00e9\\u007f\\ud83d\\ude00\"", b.toString());
    }

    /** A failure while producing the third tensor leaves the directory as it was: no shard, no temporary file. */
    @Test
    void failedWriteLeavesNoPartialCheckpoint() throws IOException {
        Files.writeString(tmp.resolve("config.json"), "{}");
        List<TensorSpec> specs = List.of(new TensorSpec("a", DType.BF16, new long[]{300_000}),
                new TensorSpec("b", DType.BF16, new long[]{300_000}), new TensorSpec("c", DType.BF16, new long[]{4}));
        Function<TensorSpec, TensorValues> values = s -> {
            if (s.key().equals("c")) {
                throw new MorException("generator failed");
            }
            return TensorValues.of(new float[(int) s.numel()], s.shape());
        };
        MorException e = assertThrows(MorException.class,
                () -> ShardedCheckpointWriter.write(tmp, specs, values, 700_000));
        assertMessage(e, "model-00002-of-00002.safetensors", "key 'c'", "generator failed");
        assertEquals(List.of(tmp.resolve("config.json")), listDir(tmp));
    }

    @Test
    void refusesADirectoryThatAlreadyHoldsWeights() throws IOException {
        Files.writeString(tmp.resolve("model-00001-of-00002.safetensors"), "old");
        List<TensorSpec> specs = List.of(new TensorSpec("a", DType.F32, new long[]{1}));
        assertMessage(assertThrows(MorException.class, () -> ShardedCheckpointWriter.write(tmp, specs,
                        s -> TensorValues.of(new float[1], 1), 100)),
                tmp.toString(), "already holds checkpoint weights [model-00001-of-00002.safetensors]");
        assertMessage(assertThrows(MorException.class, () -> ShardedCheckpointWriter.write(tmp.resolve("no"), specs,
                        s -> TensorValues.of(new float[1], 1), 100)),
                "no such directory");
        assertEquals("old", Files.readString(tmp.resolve("model-00001-of-00002.safetensors")));
    }

    @Test
    void parsesSizesAsTransformersMaxShardSize() {
        assertEquals(5_000_000_000L, ShardedCheckpointWriter.parseSize("5GB"));
        assertEquals(500_000_000L, ShardedCheckpointWriter.parseSize("500MB"));
        assertEquals(500_000_000L, ShardedCheckpointWriter.parseSize("500mb"));
        assertEquals(1_500_000_000L, ShardedCheckpointWriter.parseSize("1.5GB"));
        assertEquals(2L << 30, ShardedCheckpointWriter.parseSize("2GiB"));
        assertEquals(10_000L, ShardedCheckpointWriter.parseSize("10KB"));
        assertEquals(123_456_789_012L, ShardedCheckpointWriter.parseSize("123456789012"));
        for (String bad : List.of("", "5 G", "-5GB", "GB", "0", "0.1", "5PB")) {
            assertMessage(assertThrows(MorException.class, () -> ShardedCheckpointWriter.parseSize(bad)),
                    "size '" + bad + "'");
        }
    }

    @Test
    void mostCommonFloatCountsElementsNotTensors() {
        try (ShardedCheckpoint f32 = ShardedCheckpoint.open(model("tiny-llama-f32"));
             ShardedCheckpoint bf16 = ShardedCheckpoint.open(model("tiny-llama-bf16"))) {
            assertEquals(DType.F32, DType.mostCommonFloat(f32));
            assertEquals(DType.BF16, DType.mostCommonFloat(bf16));
        }
        // three F32 vectors of 4 and one BF16 matrix of 16: BF16 holds most parameters
        List<TensorSpec> specs = List.of(new TensorSpec("n1", DType.F32, new long[]{4}),
                new TensorSpec("n2", DType.F32, new long[]{4}), new TensorSpec("n3", DType.F32, new long[]{4}),
                new TensorSpec("w", DType.BF16, new long[]{4, 4}), new TensorSpec("ids", DType.I64, new long[]{64}));
        ShardedCheckpointWriter.write(tmp, specs, s -> s.dtype() == DType.I64
                ? TensorValues.of(org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.LONG, 64))
                : TensorValues.of(new float[(int) s.numel()], s.shape()), 1000);
        try (ShardedCheckpoint mixed = ShardedCheckpoint.open(tmp)) {
            assertEquals(DType.BF16, DType.mostCommonFloat(mixed));
        }
        assertEquals(DType.BF16, DType.floatType("bfloat16"));
        assertEquals(DType.F16, DType.floatType("F16"));
        assertMessage(assertThrows(MorException.class, () -> DType.floatType("int64")), "dtype 'int64'");
    }

    private static List<Path> listDir(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
