package dev.mor4j.llama.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import dev.mor4j.core.TestData;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A decode step neither reallocates nor copies the cache: its arrays stay the same from step to step, the
 * positions already cached keep their values, the graph reads the cache's own buffers and no op of it produces an
 * array as long as the cache; and the cache grows (once, by a copy) only when a step does not fit.
 */
class KvCacheInPlaceTest {

    private static final int[] PROMPT = {1, 272, 1400, 29871, 3, 812};

    private static LlamaModel model;
    private static KvCacheForward forward;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        forward = new KvCacheForward(model.weights());
    }

    @Test
    void stepsWriteIntoTheArraysThePrefillAllocated() {
        KvCacheStepper stepper = new KvCacheStepper(forward);
        int steps = 9;
        stepper.start(PROMPT, PROMPT.length + steps);
        KvCache first = stepper.cache();
        int layers = first.layers();
        assertEquals(PROMPT.length + steps, first.capacity());
        List<INDArray> slots = new ArrayList<>();
        long[] addresses = new long[2 * layers];
        for (int l = 0; l < layers; l++) {
            slots.add(first.keySlots(l));
            slots.add(first.valueSlots(l));
            addresses[2 * l] = first.keySlots(l).data().address();
            addresses[2 * l + 1] = first.valueSlots(l).data().address();
        }
        for (int s = 0; s < steps; s++) {
            KvCache before = stepper.cache();
            INDArray earlierKeys = before.key(layers - 1).dup(); // [1, n_kv, P, hd]
            stepper.append(300 + s);
            KvCache after = stepper.cache();
            assertEquals(before.length() + 1, after.length());
            assertEquals(first.capacity(), after.capacity(), "step " + s + ": no reallocation");
            for (int l = 0; l < layers; l++) {
                assertSame(slots.get(2 * l), after.keySlots(l), "step " + s + ", layer " + l + ": the same key array");
                assertSame(slots.get(2 * l + 1), after.valueSlots(l), "step " + s + ", layer " + l);
                assertEquals(addresses[2 * l], after.keySlots(l).data().address());
                assertEquals(addresses[2 * l + 1], after.valueSlots(l).data().address());
            }
            INDArray kept = after.key(layers - 1).get(all(), all(), interval(0, before.length()), all());
            assertEquals(0.0, TestData.maxAbsDiff(earlierKeys, kept), "step " + s + ": earlier positions untouched");
        }
        assertEquals(first.capacity(), stepper.cache().length(), "every slot filled");
    }

    /** Records the buffers every op reads and the shapes it writes. */
    private static final class Buffers extends BaseListener {
        final Set<Long> read = new HashSet<>();
        final List<String> longOutputs = new ArrayList<>();
        final int capacity;
        final int headDim;

        Buffers(int capacity, int headDim) {
            this.capacity = capacity;
            this.headDim = headDim;
        }

        @Override
        public boolean isActive(Operation operation) {
            return true;
        }

        @Override
        public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx,
                INDArray[] outputs) {
            if (ctx != null) {
                ctx.getInputArrays().forEach(a -> read.add(a.data().address()));
            }
            for (INDArray o : outputs) {
                long[] s = o.shape();
                // keys or values of at least C positions: the cache copied, concatenated or repeated
                if (s.length >= 4 && s[s.length - 1] == headDim && s[s.length - 2] >= capacity) {
                    longOutputs.add(op.getName() + Arrays.toString(s));
                }
            }
        }
    }

    @Test
    void theDecodeGraphReadsTheCacheWhereItLies() {
        LlamaConfig c = model.config();
        int capacity = 40; // more than the prompt and the tokens of one step, and no multiple of either
        KvCacheForward.Step s = forward.prefill(new int[][] {PROMPT}, null, capacity);
        Buffers trace = new Buffers(capacity, c.headDim());
        SameDiff sd = forward.decodeGraph().sd();
        sd.setListeners(trace);
        try {
            s = forward.decode(s.cache(), new int[][] {{42}});
            s = forward.decode(s.cache(), new int[][] {{43}});
        } finally {
            sd.setListeners();
        }
        for (int l = 0; l < s.cache().layers(); l++) {
            assertTrue(trace.read.contains(s.cache().keySlots(l).data().address()), "layer " + l + "'s keys read in place");
            assertTrue(trace.read.contains(s.cache().valueSlots(l).data().address()), "layer " + l + "'s values");
        }
        assertEquals(List.of(), trace.longOutputs, "ops that produce an array of the cache's length");
    }

    /**
     * The bundled model groups its query heads (4 heads, 2 key/value heads); a model with as many key/value heads
     * as query heads (LLaMA-2-7B's kind) takes the other path of {@code CachedAttention}: random weights, 2 layers.
     */
    @Test
    void withoutGroupedQueriesDecodingGivesTheLogitsOfOnePass() {
        LlamaConfig c = new LlamaConfig(32, 40, 2, 4, 4, 8, 1e-5, 10000.0, false, 64, 32, 1, List.of(2));
        Map<String, long[]> shapes = LlamaWeights.expectedShapes(c);
        Nd4j.getRandom().setSeed(3);
        LlamaWeights w = LlamaWeights.load(c, "random", shapes.keySet(), shapes::get, k -> shapes.get(k).length == 1
                ? Nd4j.ones(DataType.FLOAT, shapes.get(k)) : Nd4j.randn(DataType.FLOAT, shapes.get(k)).muli(0.2));
        int[] ids = {1, 5, 17, 33, 2, 60, 9, 41, 8, 12};
        long[][] rows = {Arrays.stream(ids).asLongStream().toArray()};
        INDArray whole = LlamaForward.run(LlamaGraph.base(w, GraphKind.INFERENCE), new Batch(rows, null, null))
                .logits();
        KvCacheForward f = new KvCacheForward(w);
        KvCacheForward.Step s = f.prefill(new int[][] {Arrays.copyOf(ids, 4)}, null, 12);
        double worst = 0;
        for (int j = 4; j < ids.length; j++) {
            s = f.decode(s.cache(), new int[][] {{ids[j]}});
            INDArray expected = whole.get(all(), interval(j, j + 1), all()); // [1, 1, V]
            worst = Math.max(worst, TestData.maxAbsDiff(s.logits(), expected));
        }
        System.out.printf("decoding without grouped queries: logits max|Δ| vs one pass %.3g%n", worst);
        assertTrue(worst <= 1e-4, "logits max|Δ| " + worst);
        assertEquals(12, s.cache().capacity(), "no reallocation");
    }

    @Test
    void aStepThatDoesNotFitMovesTheCacheOnceIntoTwiceTheRoom() {
        KvCacheForward.Step prompt = forward.prefill(new int[][] {PROMPT});
        KvCache exact = prompt.cache();
        assertEquals(PROMPT.length, exact.capacity());
        INDArray promptKeys = exact.key(0).dup();
        KvCache grown = forward.decode(exact, new int[][] {{42}}).cache();
        assertEquals(2 * PROMPT.length, grown.capacity());
        assertNotSame(exact.keySlots(0), grown.keySlots(0));
        INDArray moved = grown.key(0).get(all(), all(), interval(0, PROMPT.length), all()); // [1, n_kv, T, hd]
        assertEquals(0.0, TestData.maxAbsDiff(promptKeys, moved), "the prompt's keys moved over");
        assertEquals(0.0, TestData.maxAbsDiff(promptKeys, exact.key(0)), "the smaller cache is left as it was");
        KvCache next = forward.decode(grown, new int[][] {{43}}).cache();
        assertSame(grown.keySlots(0), next.keySlots(0), "the next step fits");
        int max = model.config().maxPositionEmbeddings();
        KvCache nearlyFull = forward.prefill(new int[][] {new int[max - 1]}).cache();
        assertEquals(max, forward.decode(nearlyFull, new int[][] {{1}}).cache().capacity(), "at most the positions");
    }
}
