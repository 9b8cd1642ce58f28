package dev.mor4j.llama.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.HalfFloats;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.safetensors.ShardPlan;
import dev.mor4j.core.safetensors.ShardedCheckpoint;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.GoldenBatch;
import dev.mor4j.llama.config.ConfigDType;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Merged checkpoints are written as the base is stored: its dtype (BF16 for the bundled BF16 model) and, with a
 * small {@code max_shard_size}, in shards named and indexed as transformers names them. The F32 single-file case
 * against PEFT's own merge is {@link PeftInteropTest#mergedCheckpointMatchesPeftMergeAndUnload}.
 */
class MergedCheckpointTest {

    private static SafetensorsFile peftGoldens;
    private static SafetensorsFile baseGoldens;
    private static Batch batch;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        peftGoldens = SafetensorsFile.open(TestData.goldens("goldens-peft.safetensors"));
        baseGoldens = SafetensorsFile.open(TestData.goldens("goldens-base-mor.safetensors"));
        batch = GoldenBatch.of(peftGoldens);
    }

    @AfterAll
    static void close() {
        peftGoldens.close();
        baseGoldens.close();
    }

    private static LlamaAdapters lora(LlamaModel model) {
        return LlamaAdapters.load(model.weights(), TestData.root().resolve("adapters/peft-lora"));
    }

    /** {@code [B, T, V]} */
    private static INDArray baseLogits(Path modelDir) {
        return LlamaForward.run(LlamaGraph.base(LlamaModel.load(modelDir).weights(), GraphKind.INFERENCE), batch)
                .logits();
    }

    /**
     * The BF16 base gives a BF16 checkpoint: every weight is the BF16 rounding of the merged float weight (the
     * base's own BF16 values untouched), config.json is the base's, and the logits differ from the adapter's only
     * by that rounding: at most twice what BF16 rounding of the whole model moves them (bf16.logits against
     * base.logits, 0.069; measured 0.069), while the adapter itself moves them by 7.8.
     */
    @Test
    void bf16BaseIsMergedIntoBf16() throws Exception {
        Path base = TestData.model("tiny-llama-bf16");
        LlamaModel model = LlamaModel.load(base);
        LlamaAdapters adapter = lora(model);
        Path out = tmp.resolve("merged-bf16");
        ShardPlan plan = AdapterMerge.write(model, adapter, out);
        assertFalse(plan.isSharded());
        assertFalse(Files.exists(out.resolve("model.safetensors.index.json")));
        assertArrayEquals(Files.readAllBytes(base.resolve("config.json")),
                Files.readAllBytes(out.resolve("config.json")));

        Map<String, INDArray> merged = AdapterMerge.mergedWeights(adapter); // module → [d_out, d_in]
        try (SafetensorsFile written = SafetensorsFile.open(out.resolve("model.safetensors"));
             SafetensorsFile original = SafetensorsFile.open(base.resolve("model.safetensors"))) {
            assertEquals(original.keys().size(), written.keys().size());
            for (String key : written.keys()) {
                assertEquals(DType.BF16, written.info(key).dtype(), key);
                INDArray m = merged.get(key.substring(0, key.length() - ".weight".length())); // [d_out, d_in] or null
                float[] expected = m == null ? original.floatData(key) : m.dup('c').data().asFloat();
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(expected[i]));
                }
                assertArrayEquals(expected, written.floatData(key), key);
            }
        }

        // The logits move by the BF16 rounding of the merged projections (whose values the adapter enlarged): the
        // same order as BF16 rounding of the whole base model moves them, tiny beside the adapter's own effect.
        INDArray adapterLogits = // [B, T, V]
                LlamaForward.run(adapter.graph(model.weights(), GraphKind.INFERENCE), batch).logits();
        double d = TestData.maxAbsDiff(baseLogits(out), adapterLogits);
        double bf16Rounding =
                TestData.maxAbsDiff(baseGoldens.getFloat("bf16.logits"), baseGoldens.getFloat("base.logits"));
        double adapterEffect = TestData.maxAbsDiff(adapterLogits, baseLogits(base));
        System.out.printf("BF16 merged vs adapter on the BF16 base: logits max|Δ| %.3g (BF16 rounding of the whole"
                + " model: %.3g, the adapter's effect: %.3g)%n", d, bf16Rounding, adapterEffect);
        assertTrue(d <= 2 * bf16Rounding, "merged BF16 logits differ by " + d + "; BF16 rounding of the model moves"
                + " them by " + bf16Rounding);
        assertTrue(adapterEffect > 50 * d, "the adapter changes the logits by " + adapterEffect);
    }

    /** --dtype float32 on the BF16 base: an F32 checkpoint, config.json's dtype changed to say so, F32 logits. */
    @Test
    void bf16BaseMergedIntoF32OnRequest() throws Exception {
        Path base = TestData.model("tiny-llama-bf16");
        LlamaModel model = LlamaModel.load(base);
        LlamaAdapters adapter = lora(model);
        Path out = tmp.resolve("merged-f32");
        AdapterMerge.write(model, adapter, out, DType.F32, 5_000_000_000L);
        try (ShardedCheckpoint written = ShardedCheckpoint.open(out)) {
            assertEquals(DType.F32, DType.mostCommonFloat(written));
            assertEquals(1, written.shardFiles().size());
        }
        String config = Files.readString(base.resolve("config.json"));
        assertTrue(config.contains("\"dtype\": \"bfloat16\""));
        assertEquals(config.replace("\"dtype\": \"bfloat16\"", "\"dtype\": \"float32\""),
                Files.readString(out.resolve("config.json")));
        INDArray adapterLogits = // [B, T, V]
                LlamaForward.run(adapter.graph(model.weights(), GraphKind.INFERENCE), batch).logits();
        double d = TestData.maxAbsDiff(baseLogits(out), adapterLogits);
        System.out.printf("F32 merged vs adapter on the BF16 base: logits max|Δ| %.3g%n", d);
        assertTrue(d <= 1e-4, "logits max abs diff " + d);
    }

    /**
     * The sharded F32 base with a 1 MB limit: the same three shards and index transformers wrote for it, and
     * the logits of PEFT's merge_and_unload.
     */
    @Test
    void shardedBaseRoundTripsInShards() throws Exception {
        Path base = TestData.model("tiny-llama-sharded");
        LlamaModel model = LlamaModel.load(base);
        Path out = tmp.resolve("merged-sharded");
        ShardPlan plan = AdapterMerge.write(model, lora(model), out, null, 1_000_000);
        assertEquals(3, plan.shards().size());
        for (ShardPlan.Shard s : plan.shards()) {
            assertTrue(Files.isRegularFile(out.resolve(s.fileName())), s.fileName());
            assertTrue(Files.isRegularFile(base.resolve(s.fileName())), s.fileName());
        }
        // same keys in the same files, same sizes: the index is transformers' byte for byte
        assertEquals(Files.readString(base.resolve("model.safetensors.index.json")),
                Files.readString(out.resolve("model.safetensors.index.json")));
        try (ShardedCheckpoint written = ShardedCheckpoint.open(out)) {
            assertEquals(DType.F32, DType.mostCommonFloat(written));
        }
        double d = TestData.maxAbsDiff(baseLogits(out), peftGoldens.getFloat("peft.lora.merged_logits"));
        System.out.printf("sharded merged: logits max|Δ| %.3g%n", d);
        assertTrue(d <= 1e-4, "merged logits max abs diff " + d);
    }

    @Test
    void configDTypeEditsOnlyTheTopLevelDTypeString() {
        String v4 = "{\n  \"torch_dtype\": \"float16\",\n  \"quant\": {\"dtype\": \"int8\"},\n"
                + "  \"rms_norm_eps\": 1e-05\n}\n";
        assertEquals(v4.replace("\"float16\"", "\"bfloat16\""), ConfigDType.withDType(v4, DType.BF16, "c"));
        assertEquals(v4, ConfigDType.withDType(v4, DType.F16, "c"));
        String none = "{\"vocab_size\": 5}";
        assertEquals(none, ConfigDType.withDType(none, DType.F32, "c"));
    }
}
