package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodedExample;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingDataTest {

    private static List<EncodedExample> examples(int n) {
        List<EncodedExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 2 + i % 5;
            int[] ids = new int[len];
            int[] labels = new int[len];
            for (int j = 0; j < len; j++) {
                ids[j] = 10 + i;
                labels[j] = j == 0 ? -100 : 10 + i;
            }
            out.add(new EncodedExample("ex" + i, i % 2 == 0 ? "even" : "odd", ids, labels));
        }
        return out;
    }

    private static String ids(MicroBatch m) {
        return m.examples().stream().map(EncodedExample::id).toList().toString();
    }

    @Test
    void microBatchesRunThroughEpochsInOrder() {
        TrainingData d = new TrainingData(examples(7), 3, 2, 5, false);
        assertEquals(3, d.batchesPerEpoch());
        // step k, micro-batch mb is batch 2k+mb of the sequence: step 1 mb 1 is batch 0 of epoch 1
        MicroBatch m = d.microBatch(1, 1);
        assertEquals(1, m.epoch());
        assertEquals(0, m.index());
        int[] expected = d.order().batch(1, 0);
        for (int i = 0; i < expected.length; i++) {
            assertEquals("ex" + expected[i], m.examples().get(i).id());
        }
        assertEquals(m.examples().size(), m.batch().batchSize());
        DataPosition p = d.position(2);
        assertEquals(4, p.microBatches());
        assertEquals(1, p.epoch());
        assertEquals(1, p.batchInEpoch());
        assertEquals(7, p.examples());
        assertEquals(d.fingerprint(), p.fingerprint());
    }

    @Test
    void restoringAPositionContinuesWithTheNextBatchEvenWithAnotherAccumulation() {
        TrainingData straight = new TrainingData(examples(7), 3, 2, 5, false);
        DataPosition saved = straight.position(3); // 6 micro-batches done
        TrainingData resumed = new TrainingData(examples(7), 3, 1, 5, false);
        resumed.restore(straight.positionJson(3), 3, "test");
        assertEquals(saved, resumed.position(3));
        assertEquals(ids(straight.microBatch(3, 0)), ids(resumed.microBatch(3, 0)));
        assertEquals(ids(straight.microBatch(3, 1)), ids(resumed.microBatch(4, 0)));
        assertArrayEquals(straight.microBatch(3, 1).batch().inputIds(), resumed.microBatch(4, 0).batch().inputIds());
    }

    @Test
    void packingLaysOutTheSameExamplesInFewerRows() {
        TrainingData padded = new TrainingData(examples(12), 6, 1, 5, false);
        TrainingData packed = new TrainingData(examples(12), 6, 1, 5, false, true);
        assertEquals(6, packed.rowLength(), "the longest example");
        assertTrue(packed.packing());
        assertEquals(padded.fingerprint(), packed.fingerprint());
        for (int step = 0; step < 4; step++) {
            MicroBatch a = padded.microBatch(step, 0);
            MicroBatch b = packed.microBatch(step, 0);
            assertEquals(ids(a), ids(b), "the same examples, in the same order");
            assertEquals(a.batch().tokenCount(), b.batch().tokenCount());
            assertEquals(6, b.batch().exampleCount());
            assertTrue(b.batch().batchSize() < a.batch().batchSize(), "step " + step + ": " + b.batch().batchSize());
            assertTrue(b.batch().seqLen() <= 6);
            // every token of example k is example k's (example "exN" holds the id 10 + N throughout)
            int t = b.batch().seqLen();
            int[] of = b.batch().exampleOfToken(); // [B·T]
            for (int p = 0; p < of.length; p++) {
                if (b.batch().attentionMask()[p / t][p % t] != 0) {
                    int n = Integer.parseInt(b.examples().get(of[p]).id().substring(2));
                    assertEquals(10 + n, b.batch().inputIds()[p / t][p % t], "position " + p);
                }
            }
        }
    }

    @Test
    void otherDataOrBatchingIsRefused() {
        TrainingData d = new TrainingData(examples(7), 3, 1, 5, false);
        DataPosition saved = d.position(4);
        MorException e = assertThrows(MorException.class,
                () -> new TrainingData(examples(8), 3, 1, 5, false).restore(saved, 4));
        assertTrue(e.getMessage().contains("other data (7 examples"), e.getMessage());
        List<EncodedExample> changed = examples(7);
        changed.set(3, new EncodedExample("ex3", "odd", new int[] {1, 2}, new int[] {-100, 2}));
        assertThrows(MorException.class, () -> new TrainingData(changed, 3, 1, 5, false).restore(saved, 4));
        e = assertThrows(MorException.class, () -> new TrainingData(examples(7), 2, 1, 5, false).restore(saved, 4));
        assertTrue(e.getMessage().contains("batch size 3"), e.getMessage());
        e = assertThrows(MorException.class, () -> d.restore(null, 4, "trainer_state.json"));
        assertTrue(e.getMessage().startsWith("trainer_state.json: 'data_position' is missing"), e.getMessage());
    }

    @Test
    void epochsCountStepsAsHuggingFaceDoes() {
        TrainingData d = new TrainingData(examples(16), 4, 1, 5, false);
        assertEquals(12, d.stepsFor(3));
        assertEquals(2, d.stepsFor(0.5));
        assertEquals(6, new TrainingData(examples(16), 4, 2, 5, false).stepsFor(3));
        assertEquals(3, new TrainingData(examples(16), 4, 8, 5, false).stepsFor(3), "at least one step an epoch");
    }

    @Test
    void noExamplesIsAClearError() {
        MorException e = assertThrows(MorException.class, () -> new TrainingData(List.of(), 4, 1, 5, false));
        assertTrue(e.getMessage().startsWith("no training examples"), e.getMessage());
    }
}
