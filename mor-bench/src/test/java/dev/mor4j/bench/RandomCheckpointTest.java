package dev.mor4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.ShardPlan;
import dev.mor4j.core.safetensors.ShardedCheckpoint;
import dev.mor4j.core.safetensors.ShardedCheckpointWriter;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The random checkpoint generator, on tiny shapes; the full-size presets only as plans (no data written). */
class RandomCheckpointTest {

    @TempDir
    Path tmp;

    private static Path tokenizers() {
        return TestData.root().resolve("tokenizers");
    }

    /** LLaMA-2-7B's layout at hidden 64, MLP 176, 2 layers, 4 heads. */
    private static CheckpointShape tinyLlama2() {
        CheckpointShape s = CheckpointShape.llama2_7b();
        return new CheckpointShape(s.name(), 64, 176, 2, 4, 4, s.vocab(), s.ropeTheta(), s.ropeScalingJson(),
                s.maxPositions(), s.bos(), s.eos(), s.tokenizer());
    }

    /** LLaMA-3-8B's layout (its vocabulary, 4 query heads per key/value head) at hidden 64, 2 layers. */
    private static CheckpointShape tinyLlama3() {
        CheckpointShape s = CheckpointShape.llama3_8b();
        return new CheckpointShape(s.name(), 64, 224, 2, 8, 2, s.vocab(), s.ropeTheta(), s.ropeScalingJson(),
                s.maxPositions(), s.bos(), s.eos(), s.tokenizer());
    }

    @Test
    void presetsHaveThePublishedSizes() {
        long max = ShardedCheckpointWriter.DEFAULT_MAX_SHARD_SIZE;
        ShardPlan l2 = ShardPlan.of(CheckpointShape.llama2_7b().tensors(), max);
        assertEquals(6_738_415_616L, l2.totalParameters());
        assertEquals(2 * 6_738_415_616L, l2.totalSize());
        assertEquals(3, l2.shards().size());
        ShardPlan l3 = ShardPlan.of(CheckpointShape.llama3_8b().tensors(), max);
        assertEquals(8_030_261_248L, l3.totalParameters());
        assertEquals(4, l3.shards().size());
        assertEquals(291, CheckpointShape.llama2_7b().tensors().size());
    }

    /** A tiny LLaMA-2-style checkpoint loads as a model, with its tokenizer, and its weights are as specified. */
    @Test
    void tinyLlama2LoadsWithRandomMatricesAndUnitNorms() throws Exception {
        Path dir = tmp.resolve("llama2-7b-random");
        ShardPlan plan = RandomCheckpoint.generate(tinyLlama2(), dir, 7, 2_000_000, tokenizers(), null);
        assertEquals(3, plan.shards().size()); // the 4 MB embedding and lm_head on their own, then the rest
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors.index.json")));
        assertFalse(Files.exists(tmp.resolve(".llama2-7b-random.tmp")));

        LlamaModel model = LlamaModel.load(dir);
        LlamaConfig c = model.config();
        assertEquals(64, c.hiddenSize());
        assertEquals(2, c.numHiddenLayers());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(List.of(2), c.eosTokenIds());
        assertEquals(32000, Tokenizer.load(dir).vocabSize());
        assertArrayEquals(Files.readAllBytes(tokenizers().resolve("sp-bpe-32k/tokenizer.json")),
                Files.readAllBytes(dir.resolve("tokenizer.json")));
        JsonNode gen = new ObjectMapper().readTree(dir.resolve("generation_config.json").toFile());
        assertEquals(1, gen.get("bos_token_id").asInt());
        assertEquals(2, gen.get("eos_token_id").asInt());

        try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(dir)) {
            assertEquals(DType.BF16, ckpt.info("model.layers.1.mlp.down_proj.weight").dtype());
            for (float v : ckpt.floatData("model.layers.0.input_layernorm.weight")) {
                assertEquals(1f, v);
            }
            for (String key : List.of("model.layers.1.mlp.gate_proj.weight", "model.embed_tokens.weight")) {
                float[] w = ckpt.floatData(key);
                double sum = 0;
                double squares = 0;
                for (float v : w) {
                    sum += v;
                    squares += (double) v * v;
                }
                double mean = sum / w.length;
                double std = Math.sqrt(squares / w.length - mean * mean);
                // 11264 and 2048000 draws: the estimates' standard errors are 1.3e-3 and 1e-5 of 0.02 (mean)
                assertTrue(Math.abs(mean) < 0.02 * 5 / Math.sqrt(w.length), key + " mean " + mean);
                assertTrue(Math.abs(std / 0.02 - 1) < 0.04, key + " std " + std);
            }
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherWeights() throws Exception {
        Path a = tmp.resolve("a/llama2-7b-random");
        Path b = tmp.resolve("b/llama2-7b-random");
        Path c = tmp.resolve("c/llama2-7b-random");
        RandomCheckpoint.generate(tinyLlama2(), a, 1, 100_000_000, tokenizers(), null);
        RandomCheckpoint.generate(tinyLlama2(), b, 1, 100_000_000, tokenizers(), null);
        RandomCheckpoint.generate(tinyLlama2(), c, 2, 100_000_000, tokenizers(), null);
        byte[] first = Files.readAllBytes(a.resolve("model.safetensors"));
        assertArrayEquals(first, Files.readAllBytes(b.resolve("model.safetensors")));
        assertFalse(java.util.Arrays.equals(first, Files.readAllBytes(c.resolve("model.safetensors"))));
    }

    /** The LLaMA-3 preset's config is Llama-3.1's (rotary scaling, three EOS ids, GQA) with its 128k tokenizer. */
    @Test
    void tinyLlama3HasLlama31ConfigAndTokenizer() throws Exception {
        Path dir = tmp.resolve("llama3-8b-random");
        RandomCheckpoint.generate(tinyLlama3(), dir, 0, ShardedCheckpointWriter.DEFAULT_MAX_SHARD_SIZE, tokenizers(),
                null);
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals(500000.0, cfg.get("rope_theta").asDouble());
        JsonNode scaling = cfg.get("rope_scaling");
        assertEquals("llama3", scaling.get("rope_type").asText());
        assertEquals(8.0, scaling.get("factor").asDouble());
        assertEquals(1.0, scaling.get("low_freq_factor").asDouble());
        assertEquals(4.0, scaling.get("high_freq_factor").asDouble());
        assertEquals(8192, scaling.get("original_max_position_embeddings").asInt());
        assertEquals(131072, cfg.get("max_position_embeddings").asInt());
        assertEquals("[128001,128008,128009]", cfg.get("eos_token_id").toString());
        assertEquals(128000, cfg.get("bos_token_id").asInt());
        assertEquals(2, cfg.get("num_key_value_heads").asInt());
        assertEquals("bfloat16", cfg.get("torch_dtype").asText());
        assertEquals(1e-5, cfg.get("rms_norm_eps").asDouble());
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"rms_norm_eps\": 1e-05,\n"));
        assertEquals(128256, Tokenizer.load(dir).vocabSize());
        try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(dir)) {
            assertArrayEquals(new long[] {16, 64}, ckpt.info("model.layers.0.self_attn.k_proj.weight").shape());
            assertArrayEquals(new long[] {128256, 64}, ckpt.info("lm_head.weight").shape());
            assertEquals(List.of(dir.resolve("model.safetensors")), ckpt.shardFiles());
        }
    }

    /** A rerun replaces the directory it wrote; a directory holding anything else is left alone. */
    @Test
    void replacesItsOwnOutputOnlyNothingElse() throws Exception {
        Path dir = tmp.resolve("llama2-7b-random");
        RandomCheckpoint.generate(tinyLlama2(), dir, 1, 2_000_000, tokenizers(), null);
        RandomCheckpoint.generate(tinyLlama2(), dir, 1, 100_000_000, tokenizers(), null); // one file this time
        assertFalse(Files.exists(dir.resolve("model.safetensors.index.json")));
        assertFalse(Files.exists(dir.resolve("model-00001-of-00003.safetensors")));
        Files.writeString(dir.resolve("notes.txt"), "mine");
        MorException e = assertThrows(MorException.class,
                () -> RandomCheckpoint.generate(tinyLlama2(), dir, 1, 100_000_000, tokenizers(), null));
        assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());
        assertEquals("mine", Files.readString(dir.resolve("notes.txt")));
    }

    @Test
    void floatsAreWrittenAsPythonReprWritesThem() {
        assertEquals("1e-05", CheckpointShape.pythonFloat(1e-5));
        assertEquals("1.5e-07", CheckpointShape.pythonFloat(1.5e-7));
        assertEquals("0.0001", CheckpointShape.pythonFloat(1e-4));
        assertEquals("10000.0", CheckpointShape.pythonFloat(10000.0));
        assertEquals("500000.0", CheckpointShape.pythonFloat(500000.0));
        assertEquals("0.02", CheckpointShape.pythonFloat(0.02));
        assertEquals("0.0", CheckpointShape.pythonFloat(0.0));
        assertEquals("1e+16", CheckpointShape.pythonFloat(1e16));
        assertEquals("-2.5", CheckpointShape.pythonFloat(-2.5));
    }
}
