package dev.mor4j.llama.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The prefill and decode graphs, with a MoR adapter on every projection, against one pass over the whole
 * sequence through {@link LlamaForward}.
 */
class KvCacheForwardTest {

    private static final int[][] IDS = {
        {1, 272, 1400, 29871, 3, 812, 99, 4021, 17, 5000, 31999, 2},
        {1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 30000}
    };

    private static LlamaModel model;
    private static KvCacheForward forward;
    private static INDArray fullLogits; // [2, 12, V]

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        LlamaAdapters mor = KvCacheGenerationTest.morAdapterFor(model);
        forward = new KvCacheForward(model.weights(), mor);
        long[][] rows = new long[IDS.length][];
        for (int i = 0; i < IDS.length; i++) {
            rows[i] = java.util.Arrays.stream(IDS[i]).asLongStream().toArray();
        }
        LlamaGraph graph = mor.graph(model.weights(), GraphKind.INFERENCE);
        fullLogits = LlamaForward.run(graph, new Batch(rows, null, null)).logits();
    }

    private static int[][] columns(int from, int to) {
        int[][] out = new int[IDS.length][];
        for (int i = 0; i < IDS.length; i++) {
            out[i] = java.util.Arrays.copyOfRange(IDS[i], from, to);
        }
        return out;
    }

    private static INDArray fullColumns(int from, int to) {
        return fullLogits.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to), NDArrayIndex.all());
    }

    @Test
    void prefillThenDecodingInPiecesGivesTheLogitsOfOnePass() {
        KvCacheForward.Step s = forward.prefill(columns(0, 5));
        double worst = TestData.maxAbsDiff(s.logits(), fullColumns(0, 5));
        int[][] pieces = {{5, 6}, {6, 9}, {9, 12}}; // one token, then three at a time
        for (int[] piece : pieces) {
            s = forward.decode(s.cache(), columns(piece[0], piece[1]));
            assertArrayEquals(new long[] {2, piece[1] - piece[0], model.config().vocabSize()}, s.logits().shape());
            worst = Math.max(worst, TestData.maxAbsDiff(s.logits(), fullColumns(piece[0], piece[1])));
        }
        System.out.printf("cache in pieces: logits max|Δ| vs one pass %.3g%n", worst);
        assertTrue(worst <= 1e-4, "logits max|Δ| " + worst);
        assertEquals(12, s.cache().length());
    }

    @Test
    void theCacheHoldsTheKeysAndValuesOfEveryPosition() {
        KvCacheForward.Step whole = forward.prefill(columns(0, 12));
        KvCacheForward.Step s = forward.prefill(columns(0, 4));
        for (int j = 4; j < 12; j++) {
            s = forward.decode(s.cache(), columns(j, j + 1));
        }
        KvCache c = s.cache();
        assertEquals(model.config().numHiddenLayers(), c.layers());
        assertArrayEquals(new long[] {2, model.config().numKeyValueHeads(), 12, model.config().headDim()},
                c.key(0).shape());
        for (int l = 0; l < c.layers(); l++) {
            assertTrue(TestData.maxAbsDiff(c.key(l), whole.cache().key(l)) <= 1e-5, "keys of layer " + l);
            assertTrue(TestData.maxAbsDiff(c.value(l), whole.cache().value(l)) <= 1e-5, "values of layer " + l);
        }
    }

    @Test
    void anEarlierCacheCanBeDecodedFromAgain() {
        KvCacheForward.Step prefix = forward.prefill(columns(0, 6));
        INDArray first = forward.decode(prefix.cache(), columns(6, 7)).logits().dup();
        forward.decode(prefix.cache(), new int[][] {{42}, {43}});
        INDArray again = forward.decode(prefix.cache(), columns(6, 7)).logits();
        assertEquals(0.0, TestData.maxAbsDiff(first, again));
        assertEquals(6, prefix.cache().length());
    }

    @Test
    void refusesToGoPastTheLastPositionOrTheVocabulary() {
        KvCacheForward.Step s = forward.prefill(columns(0, 2));
        int max = model.config().maxPositionEmbeddings();
        int[][] tooMany = new int[2][max - 1];
        MorException e = assertThrows(MorException.class, () -> forward.decode(s.cache(), tooMany));
        assertTrue(e.getMessage().contains("max_position_embeddings (" + max + ")"), e.getMessage());
        MorException v = assertThrows(MorException.class, () -> forward.decode(s.cache(), new int[][] {{1}, {32000}}));
        assertTrue(v.getMessage().contains("32000"), v.getMessage());
    }
}
