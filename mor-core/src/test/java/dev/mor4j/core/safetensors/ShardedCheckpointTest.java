package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.mor4j.core.safetensors.StTestSupport.assertMessage;
import static dev.mor4j.core.TestData.model;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardedCheckpointTest {

    private static final String SHARD1 = "model-00001-of-00003.safetensors";
    private static final String SHARD2 = "model-00002-of-00003.safetensors";
    private static final String SHARD3 = "model-00003-of-00003.safetensors";

    @TempDir
    Path tmp;

    /** A copy of the sharded fixture, to break. */
    private Path shardedCopy() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("sharded"));
        try (Stream<Path> s = Files.list(model("tiny-llama-sharded"))) {
            for (Path p : s.toList()) {
                Files.copy(p, dir.resolve(p.getFileName().toString()));
            }
        }
        return dir;
    }

    private static MorException openFails(Path p) {
        return assertThrows(MorException.class, () -> ShardedCheckpoint.open(p).close());
    }

    @Test
    void shardedCheckpointMatchesTheSingleFileBitForBit() {
        Path dir = model("tiny-llama-sharded");
        try (ShardedCheckpoint sharded = ShardedCheckpoint.open(dir);
             SafetensorsFile single = SafetensorsFile.open(model("tiny-llama-f32").resolve("model.safetensors"))) {
            assertEquals(dir.toString(), sharded.description());
            assertEquals(dir.resolve(ShardedCheckpoint.INDEX_FILE).toString(), sharded.indexFile().toString());
            assertEquals(List.of(SHARD2, SHARD1, SHARD3),
                    sharded.shardFiles().stream().map(p -> p.getFileName().toString()).toList());
            assertEquals(single.keys(), sharded.keys()); // weight_map is sorted, like the single file's header
            assertEquals(SHARD1, sharded.shardOf("model.embed_tokens.weight").getFileName().toString());
            assertEquals(SHARD2, sharded.shardOf("lm_head.weight").getFileName().toString());
            for (String key : single.keys()) {
                assertTrue(sharded.contains(key));
                TensorInfo a = single.info(key);
                TensorInfo b = sharded.info(key);
                assertEquals(a.dtype(), b.dtype(), key);
                assertArrayEquals(a.shape(), b.shape(), key);
                float[] expected = single.floatData(key);
                float[] actual = sharded.floatData(key);
                assertEquals(expected.length, actual.length, key);
                for (int i = 0; i < expected.length; i++) {
                    if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                        throw new AssertionError(key + "[" + i + "]: " + expected[i] + " != " + actual[i]);
                    }
                }
                INDArray arr = sharded.getFloat(key);
                assertEquals(DataType.FLOAT, arr.dataType());
                assertEquals(single.getFloat(key), arr, key);
            }
        }
    }

    @Test
    void singleFileDirectoryAndFilePaths() {
        Path dir = model("tiny-llama-f32");
        Path file = dir.resolve("model.safetensors");
        try (ShardedCheckpoint viaDir = ShardedCheckpoint.open(dir);
             ShardedCheckpoint viaFile = ShardedCheckpoint.open(file);
             ShardedCheckpoint viaIndex = ShardedCheckpoint.open(
                     model("tiny-llama-sharded").resolve(ShardedCheckpoint.INDEX_FILE))) {
            assertEquals(file.toString(), viaDir.description());
            assertNull(viaDir.indexFile());
            assertEquals(List.of(file), viaDir.shardFiles());
            assertEquals(21, viaDir.keys().size());
            assertEquals(viaFile.keys(), viaDir.keys());
            assertEquals(viaIndex.keys(), viaDir.keys());
            assertArrayEquals(viaIndex.floatData("model.norm.weight"), viaDir.floatData("model.norm.weight"));
            assertEquals(DType.BF16, ShardedCheckpointTest.infoOf(model("tiny-llama-bf16"), "lm_head.weight").dtype());
        }
    }

    private static TensorInfo infoOf(Path dir, String key) {
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
            return c.info(key);
        }
    }

    @Test
    void directoryWithOneOtherSafetensorsFile() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("adapter"));
        Files.writeString(dir.resolve("adapter_config.json"), "{}");
        SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"),
                Map.of("a.lora_A.weight", Nd4j.create(new float[]{1, 2, 3, 4}, new long[]{2, 2}, 'c')));
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
            assertEquals(List.of("a.lora_A.weight"), c.keys());
            assertArrayEquals(new float[]{1, 2, 3, 4}, c.floatData("a.lora_A.weight"));
        }
    }

    @Test
    void indexNamesAMissingShard() throws IOException {
        Path dir = shardedCopy();
        Files.delete(dir.resolve(SHARD2));
        assertMessage(openFails(dir), dir.resolve(ShardedCheckpoint.INDEX_FILE).toString(),
                "key 'lm_head.weight' is mapped to shard '" + SHARD2 + "', which does not exist in");
    }

    @Test
    void indexKeyMissingFromItsShard() throws IOException {
        Path dir = shardedCopy();
        Path index = dir.resolve(ShardedCheckpoint.INDEX_FILE);
        String text = Files.readString(index).replace("\"model.norm.weight\": \"" + SHARD3 + "\"",
                "\"model.norm.weight\": \"" + SHARD3 + "\",\n    \"model.extra.weight\": \"" + SHARD3 + "\"");
        Files.writeString(index, text);
        assertMessage(openFails(dir), index.toString(),
                "key 'model.extra.weight' is mapped to shard '" + SHARD3 + "', but that shard has no such tensor");

        // a key listed under the wrong shard
        Files.writeString(index, Files.readString(index)
                .replace("\"model.extra.weight\": \"" + SHARD3 + "\"", "\"model.extra.weight\": \"" + SHARD1 + "\"")
                .replace("\"lm_head.weight\": \"" + SHARD2 + "\"", "\"lm_head.weight\": \"" + SHARD1 + "\""));
        assertMessage(openFails(dir), index.toString(),
                "key 'lm_head.weight' is mapped to shard '" + SHARD1 + "', but that shard has no such tensor");
    }

    @Test
    void brokenShardIsNamed() throws IOException {
        Path dir = shardedCopy();
        Path shard = dir.resolve(SHARD3);
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        assertMessage(openFails(dir), shard.toString(), "key 'model.norm.weight'", "exceed the data section");
    }

    @Test
    void directoryWithoutSafetensors() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("empty-model"));
        Files.writeString(dir.resolve("config.json"), "{}");
        Files.writeString(dir.resolve("pytorch_model.bin"), "not supported");
        assertMessage(openFails(dir), dir.toString(), "no safetensors weights in this directory",
                "expected model.safetensors, or model.safetensors.index.json with its shards, or a single"
                        + " *.safetensors file");
    }

    @Test
    void severalSafetensorsWithoutIndex() throws IOException {
        Path dir = shardedCopy();
        Files.delete(dir.resolve(ShardedCheckpoint.INDEX_FILE));
        assertMessage(openFails(dir), dir.toString(), "3 .safetensors files", SHARD1,
                "but no model.safetensors.index.json");
    }

    @Test
    void badIndexFiles() throws IOException {
        Path dir = shardedCopy();
        Path index = dir.resolve(ShardedCheckpoint.INDEX_FILE);

        Files.writeString(index, "{\"weight_map\": {\"a\": ");
        assertMessage(openFails(dir), index.toString(), "not valid JSON",
                "expected a shard index with a \"weight_map\" object");

        Files.writeString(index, "{\"metadata\": {}}");
        assertMessage(openFails(dir), index.toString(), "key 'weight_map': missing",
                "expected an object mapping tensor keys to shard file names");

        Files.writeString(index, "{\"weight_map\": {\"lm_head.weight\": 3}}");
        assertMessage(openFails(dir), index.toString(), "key 'lm_head.weight'", "is a number (3)",
                "expected a shard file name");

        Files.writeString(index, "{\"weight_map\": {\"lm_head.weight\": \"../" + SHARD2 + "\"}}");
        assertMessage(openFails(dir), index.toString(), "key 'lm_head.weight'", "lies outside",
                "expected a file in the checkpoint directory");

        Files.writeString(index, "{\"weight_map\": {}}");
        assertMessage(openFails(dir), index.toString(), "key 'weight_map': is empty");
    }

    @Test
    void missingKeyNamesCheckpointAndKey() {
        Path dir = model("tiny-llama-sharded");
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
            MorException e = assertThrows(MorException.class, () -> c.getFloat("model.layers.7.mlp.up_proj.weight"));
            assertMessage(e, dir.toString(), "no tensor with key 'model.layers.7.mlp.up_proj.weight'",
                    "21 tensors in 3 shards");
            MorException l = assertThrows(MorException.class, () -> c.getLong("lm_head.weight"));
            assertMessage(l, SHARD2, "key 'lm_head.weight'", "has dtype F32");
        }
        Path nowhere = tmp.resolve("no-such-model");
        assertMessage(openFails(nowhere), nowhere.toString(), "no such file or directory");
    }

    @Test
    void closeClosesEveryShard() {
        ShardedCheckpoint c = ShardedCheckpoint.open(model("tiny-llama-sharded"));
        c.close();
        for (String key : List.of("lm_head.weight", "model.embed_tokens.weight", "model.norm.weight")) {
            assertThrows(IllegalStateException.class, () -> c.floatData(key), key);
        }
    }
}
