package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.GoldenBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The base model against transformers' own outputs for the tiny checkpoint. */
class LlamaGoldenTest {

    private static SafetensorsFile goldens;
    private static Batch batch;

    @BeforeAll
    static void open() {
        goldens = SafetensorsFile.open(TestData.goldens("goldens-base-mor.safetensors"));
        batch = GoldenBatch.of(goldens);
    }

    @AfterAll
    static void close() {
        goldens.close();
    }

    @Test
    void f32LogitsLossAndHiddenStatesMatchTransformers() {
        LlamaModel model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        LlamaForward.Result r = LlamaForward.withHiddenStates(LlamaGraph.base(model.weights(), GraphKind.LOSS), batch);
        double logits = TestData.maxAbsDiff(r.logits(), goldens.getFloat("base.logits"));
        double loss = Math.abs(r.loss() - goldens.getFloat("base.loss").getDouble(0));
        System.out.printf("f32: logits max|Δ| %.3g, loss |Δ| %.3g%n", logits, loss);
        assertTrue(logits <= 1e-4, "logits max abs diff " + logits);
        assertTrue(loss <= 1e-5, "loss abs diff " + loss);
        for (int i = 0; i < 3; i++) {
            double h = TestData.maxAbsDiff(r.hiddenStates().get(i), goldens.getFloat("base.hidden_states." + i));
            System.out.printf("f32: hidden_states.%d max|Δ| %.3g%n", i, h);
            assertTrue(h <= 1e-4, "hidden_states." + i + " max abs diff " + h);
        }
    }

    @Test
    void bf16CheckpointUpcastMatchesTransformers() {
        LlamaModel model = LlamaModel.load(TestData.model("tiny-llama-bf16"));
        LlamaForward.Result r = LlamaForward.run(LlamaGraph.base(model.weights(), GraphKind.INFERENCE), batch);
        double d = TestData.maxAbsDiff(r.logits(), goldens.getFloat("bf16.logits"));
        System.out.printf("bf16: logits max|Δ| %.3g%n", d);
        assertTrue(d <= 1e-4, "bf16 logits max abs diff " + d);
    }

    @Test
    void shardedCheckpointGivesTheSameLogitsAsTheSingleFile() {
        LlamaForward.Result single = LlamaForward.run(
                LlamaGraph.base(LlamaModel.load(TestData.model("tiny-llama-f32")).weights(), GraphKind.INFERENCE),
                batch);
        LlamaForward.Result sharded = LlamaForward.run(
                LlamaGraph.base(LlamaModel.load(TestData.model("tiny-llama-sharded")).weights(), GraphKind.INFERENCE),
                batch);
        assertEquals(0.0, TestData.maxAbsDiff(single.logits(), sharded.logits()));
    }
}
