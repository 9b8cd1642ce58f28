package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.safetensors.ShardedCheckpoint;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.GoldenBatch;
import dev.mor4j.llama.adapter.LlamaAdapters;
import java.util.HashSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A BF16 checkpoint stays 16-bit in memory, and computes exactly what the same checkpoint upcast to float32 at load
 * computes: the graph widens each weight with the same exact conversion, so logits and adapter gradients agree bit
 * for bit.
 */
class ResidentWeightsTest {

    private static final Batch batch = GoldenBatch.golden();

    /** The BF16 checkpoint read the old way: every tensor upcast to FLOAT while loading. */
    private static LlamaWeights upcastAtLoad() {
        LlamaModel resident = LlamaModel.load(TestData.model("tiny-llama-bf16"));
        try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(TestData.model("tiny-llama-bf16"))) {
            return LlamaWeights.load(resident.config(), ckpt.description(), new HashSet<>(ckpt.keys()),
                    k -> ckpt.info(k).shape(), ckpt::getFloat);
        }
    }

    @Test
    void sixteenBitWeightsStaySixteenBit() {
        LlamaWeights w = LlamaModel.load(TestData.model("tiny-llama-bf16")).weights();
        assertEquals(DataType.FLOAT, w.dataType(), "the graph computes in float32");
        assertEquals(DataType.BFLOAT16, w.embedTokens().dataType());
        for (String name : w.linearNames()) {
            assertEquals(DataType.BFLOAT16, w.linear(name).storedType(), name);
            assertEquals(DataType.FLOAT, w.linear(name).dataType(), name);
        }
        assertEquals(DataType.FLOAT, w.finalNorm().dataType());
        LlamaWeights f32 = LlamaModel.load(TestData.model("tiny-llama-f32")).weights();
        assertEquals(DataType.FLOAT, f32.linear("lm_head").storedType(), "F32 checkpoints are held as they are");
    }

    @Test
    void logitsEqualThoseOfTheUpcastCheckpoint() {
        LlamaWeights resident = LlamaModel.load(TestData.model("tiny-llama-bf16")).weights();
        LlamaForward.Result a = LlamaForward.withHiddenStates(LlamaGraph.base(resident, GraphKind.LOSS), batch);
        LlamaForward.Result b = LlamaForward.withHiddenStates(LlamaGraph.base(upcastAtLoad(), GraphKind.LOSS), batch);
        assertEquals(0.0, TestData.maxAbsDiff(a.logits(), b.logits()));
        assertEquals(b.loss(), a.loss());
    }

    @Test
    void adapterGradientsEqualThoseOfTheUpcastCheckpoint() {
        LlamaWeights resident = LlamaModel.load(TestData.model("tiny-llama-bf16")).weights();
        LlamaWeights upcast = upcastAtLoad();
        Map<String, INDArray> ga = gradients(resident);
        Map<String, INDArray> gb = gradients(upcast);
        assertEquals(gb.keySet(), ga.keySet());
        for (String k : ga.keySet()) {
            assertEquals(0.0, TestData.maxAbsDiff(ga.get(k), gb.get(k)), k);
        }
    }

    /** LoRA on every projection (the frozen layers' backward runs through all of them), random B so dA ≠ 0. */
    private static Map<String, INDArray> gradients(LlamaWeights weights) {
        AdapterConfig lora = AdapterConfig.lora().rank(4).alpha(8).dropout(0.0).targetModules("q_proj", "k_proj",
                "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj").build();
        LlamaAdapters a = LlamaAdapters.create(weights, lora, 7);
        Map<String, INDArray> w = new LinkedHashMap<>(a.weights());
        w.replaceAll((k, v) -> k.endsWith("lora_B.weight") ? v.assign(0.01) : v);
        LlamaGraph g = a.graph(weights, GraphKind.TRAINING);
        Map<String, INDArray> feeds = g.feeds(batch, LlamaFeeds.Reduction.MEAN);
        return g.gradients(feeds, a.weights().keySet()).getGradients();
    }

    /**
     * The LM head held in vocabulary blocks (widened one at a time) gives the loss, logits and adapter gradients of
     * the head held whole: the blocks' products are the whole product's columns, and the loss's gradient sums the
     * blocks' products back (a different summation order: equal to float32 rounding).
     */
    @Test
    void aHeadInBlocksComputesWhatTheWholeHeadComputes() {
        LlamaWeights whole = LlamaModel.load(TestData.model("tiny-llama-bf16")).weights();
        LlamaWeights blocks = whole.withHeadBlocks(32000L * 32 / 3);
        assertEquals(1, whole.linear("lm_head").blocks());
        assertEquals(4, blocks.linear("lm_head").blocks(), "32000 rows in blocks of at most 10666");
        assertEquals(whole.linear("lm_head").storedWeight(), blocks.linear("lm_head").storedWeight());
        LlamaForward.Result a = LlamaForward.withHiddenStates(LlamaGraph.base(blocks, GraphKind.LOSS), batch);
        LlamaForward.Result b = LlamaForward.withHiddenStates(LlamaGraph.base(whole, GraphKind.LOSS), batch);
        assertTrue(TestData.maxAbsDiff(a.logits(), b.logits()) <= 1e-6 * b.logits().amaxNumber().doubleValue(),
                "logits differ by " + TestData.maxAbsDiff(a.logits(), b.logits()));
        assertEquals(b.loss(), a.loss(), 1e-6 * Math.abs(b.loss()));
        Map<String, INDArray> ga = gradients(blocks);
        Map<String, INDArray> gb = gradients(whole);
        assertEquals(gb.keySet(), ga.keySet());
        for (String k : ga.keySet()) {
            double scale = gb.get(k).amaxNumber().doubleValue();
            assertTrue(scale > 0, k + " has no gradient");
            assertTrue(TestData.maxAbsDiff(ga.get(k), gb.get(k)) <= 1e-6 * scale,
                    k + " differs by " + TestData.maxAbsDiff(ga.get(k), gb.get(k)) + " of " + scale);
        }
    }

    /**
     * An inference pass widens each layer's weights only once the layer's input exists: every cast of layer l runs
     * after every product of layer l - 1, so a forward pass of a 7B model holds one layer's float32 weights at a
     * time, not all of them (SameDiff would otherwise run every constant's cast at the start).
     */
    @Test
    void anInferencePassWidensOneLayerAtATime() {
        LlamaWeights resident = LlamaModel.load(TestData.model("tiny-llama-bf16")).weights();
        LlamaGraph g = LlamaGraph.base(resident, GraphKind.INFERENCE);
        dev.mor4j.core.nn.OpTrace trace = new dev.mor4j.core.nn.OpTrace();
        g.sd().setListeners(trace);
        LlamaForward.run(g, batch);
        List<dev.mor4j.core.nn.OpTrace.Execution> ops = trace.executions();
        int lastProductOfLayer0 = -1;
        int firstCastOfLayer1 = Integer.MAX_VALUE;
        for (int i = 0; i < ops.size(); i++) {
            dev.mor4j.core.nn.OpTrace.Execution e = ops.get(i);
            if (e.type().equals("xw_plus_b") && e.inputs().stream().anyMatch(n -> n.startsWith("model.layers.0."))) {
                lastProductOfLayer0 = i;
            }
            if (e.type().equals("cast") && e.outputs().stream().anyMatch(n -> n.startsWith("model.layers.1."))) {
                firstCastOfLayer1 = Math.min(firstCastOfLayer1, i);
            }
        }
        assertTrue(lastProductOfLayer0 >= 0 && firstCastOfLayer1 < Integer.MAX_VALUE, trace.toString());
        assertTrue(lastProductOfLayer0 < firstCastOfLayer1, "layer 1's weights were widened (op " + firstCastOfLayer1
                + ") before layer 0's last product (op " + lastProductOfLayer0 + ")");
    }
}
