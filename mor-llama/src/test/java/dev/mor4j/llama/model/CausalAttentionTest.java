package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.nn.SessionMemory;
import dev.mor4j.core.train.GradientFunction;
import dev.mor4j.core.TestData;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Attention in two causal blocks against the whole softmax: same outputs and gradients, in float64. */
class CausalAttentionTest {

    private static final int B = 2;
    private static final int HEADS = 3;
    private static final int HD = 4;

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 7, 16})
    void twoBlocksEqualTheWholeSoftmax(int t) {
        Nd4j.getRandom().setSeed(t);
        INDArray q = Nd4j.randn(DataType.DOUBLE, B, HEADS, t, HD); // [B, nh, T, hd]
        INDArray k = Nd4j.randn(DataType.DOUBLE, B, HEADS, t, HD); // [B, nh, T, hd]
        INDArray v = Nd4j.randn(DataType.DOUBLE, B, HEADS, t, HD); // [B, nh, T, hd]
        INDArray w = Nd4j.randn(DataType.DOUBLE, B, HEADS, t, HD); // [B, nh, T, hd]: weights of the loss
        // row 0 unpadded, row 1 right-padded to half its length, as BatchCollator pads
        double[] bias = new double[B * t * t]; // [B, 1, T, T]
        for (int b = 0; b < B; b++) {
            int length = b == 0 ? t : Math.max(1, t / 2);
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    bias[(b * t + i) * t + j] = j <= i && j < length ? 0 : -Float.MAX_VALUE;
                }
            }
        }
        Map<String, INDArray> feeds = Map.of("q", q, "k", k, "v", v, "w", w,
                "bias", Nd4j.create(bias, new long[] {B, 1, t, t}, DataType.DOUBLE));
        OutAndGrad whole = run(false, feeds);
        OutAndGrad blocks = run(true, feeds);
        INDArray expected = whole.getOutputs().get("ctx"); // [B, nh, T, hd]
        INDArray actual = blocks.getOutputs().get("ctx"); // [B, nh, T, hd]
        assertTrue(TestData.maxAbsDiff(expected, actual) <= 1e-12, "T=" + t + ": outputs differ by "
                + TestData.maxAbsDiff(expected, actual));
        for (String name : List.of("q", "k", "v")) {
            INDArray g = whole.getGradients().get(name);
            double diff = TestData.maxAbsDiff(g, blocks.getGradients().get(name));
            assertTrue(diff <= 1e-12, "T=" + t + ": d" + name + " differs by " + diff);
            assertTrue(g.amaxNumber().doubleValue() > 0.1, "T=" + t + ": d" + name + " is degenerate");
        }
    }

    /** Loss {@code sum(ctx ⊙ w)}; gradients for q, k and v (variables, fed through the placeholders' values). */
    private static OutAndGrad run(boolean blocked, Map<String, INDArray> feeds) {
        SameDiff sd = SameDiff.create();
        SessionMemory.install(sd);
        SDVariable q = sd.var("q", feeds.get("q").dup());
        SDVariable k = sd.var("k", feeds.get("k").dup());
        SDVariable v = sd.var("v", feeds.get("v").dup());
        SDVariable bias = sd.placeHolder("bias", DataType.DOUBLE, -1, 1, -1, -1);
        SDVariable w = sd.placeHolder("w", DataType.DOUBLE, -1, HEADS, -1, HD);
        SDVariable shape = sd.shape(q).castTo(DataType.LONG); // [4]
        SDVariable b = shape.get(SDIndex.interval(0, 1)); // [1]
        SDVariable t = shape.get(SDIndex.interval(2, 3)); // [1]
        SDVariable ctx = blocked ? CausalAttention.twoBlocks(sd, q, k, v, bias, b, t, HEADS, HD)
                : CausalAttention.whole(sd, q, k, v, bias);
        sd.identity("ctx", ctx);
        sd.setLossVariables(ctx.mul(w).sum());
        Map<String, INDArray> placeholders = Map.of("bias", feeds.get("bias"), "w", feeds.get("w"));
        return GradientFunction.run(sd, placeholders, List.of("ctx"), List.of("q", "k", "v"));
    }

    @Test
    void trainingGraphRejectsSingleTokenBatchesWithAMessage() {
        LlamaWeights weights = LlamaModel.load(TestData.model("tiny-llama-f32")).weights();
        LlamaGraph training = LlamaGraph.build(weights, Map.of(), Map.of(), GraphKind.TRAINING);
        long[][] one = {{1}};
        MorException e = assertThrows(MorException.class,
                () -> LlamaForward.run(training, new Batch(one, null, one)));
        assertTrue(e.getMessage().contains("at least 2 tokens"), e.getMessage());

        // graphs that are not for training take single tokens as before
        LlamaForward.Result r = LlamaForward.run(LlamaGraph.base(weights, GraphKind.INFERENCE),
                new Batch(one, null, null));
        assertEquals(weights.config().vocabSize(), r.logits().size(2));
    }
}
