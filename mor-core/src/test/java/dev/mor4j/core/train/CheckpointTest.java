package dev.mor4j.core.train;

import static dev.mor4j.core.train.TrainerTest.assertBitEqual;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class CheckpointTest {

    @TempDir
    Path tmp;

    private static TrainConfig config() {
        return TrainConfig.builder().learningRate(3e-2).weightDecay(0.01).warmupRatio(0.3)
                .lrScheduler(LrSchedulerType.COSINE).maxSteps(8).gradientAccumulationSteps(2).maxGradNorm(0.5)
                .seed(11).saveSteps(3).build();
    }

    private static Trainer trainer(TinyProblem p, TrainConfig c, Path out) {
        Trainer t = new Trainer(c, p.params, p.source);
        if (out != null) {
            t.checkpoints(new CheckpointStore(out, c.saveTotalLimit()));
        }
        return t.dataPosition(() -> TinyProblem.position(t.globalStep()));
    }

    private static Map<String, float[]> optimizerState(Trainer t) {
        Map<String, INDArray> all = new LinkedHashMap<>();
        t.optimizer().expAvg().forEach((k, v) -> all.put(k + ".exp_avg", v));
        t.optimizer().expAvgSq().forEach((k, v) -> all.put(k + ".exp_avg_sq", v));
        return TinyProblem.snapshot(all);
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void resumedRunIsBitIdenticalToAnUninterruptedOne() throws IOException {
        TinyProblem straight = new TinyProblem(5, 0.2, 2, 11);
        Trainer a = trainer(straight, config(), null);
        List<StepMetrics> aMetrics = new ArrayList<>();
        a.addListener(aMetrics::add);
        a.train();

        Path out = tmp.resolve("run");
        TinyProblem first = new TinyProblem(5, 0.2, 2, 11);
        Trainer b = trainer(first, config(), out);
        b.train(5); // stops ("crashes") after step 5, saving there
        assertEquals(List.of("checkpoint-3", "checkpoint-5"), listing(out));

        TinyProblem second = new TinyProblem(99, 0.2, 2, 11); // different initial weights: all must come from disk
        Trainer c = trainer(second, config(), out);
        List<StepMetrics> cMetrics = new ArrayList<>();
        c.addListener(cMetrics::add);
        TrainerState s = c.resume(out.resolve("checkpoint-5"));
        assertEquals(5, s.globalStep());
        assertEquals(5, s.optimizerStep());
        assertEquals(11, s.rngSeed());
        assertEquals(config(), s.config());
        assertEquals(TinyProblem.position(5).toString(), s.dataPosition().toString());
        assertEquals(5, c.globalStep());
        c.train();

        assertEquals(8, c.globalStep());
        assertBitEqual(TinyProblem.snapshot(a.params()), TinyProblem.snapshot(c.params()), "weights");
        assertBitEqual(optimizerState(a), optimizerState(c), "optimizer state");
        assertEquals(a.optimizer().stepCount(), c.optimizer().stepCount());
        for (int i = 0; i < 3; i++) {
            StepMetrics x = aMetrics.get(5 + i);
            StepMetrics y = cMetrics.get(i);
            assertEquals(x.step(), y.step());
            assertEquals(Double.doubleToLongBits(x.loss()), Double.doubleToLongBits(y.loss()), "loss at " + x.step());
            assertEquals(Double.doubleToLongBits(x.gradNorm()), Double.doubleToLongBits(y.gradNorm()));
            assertEquals(x.lr(), y.lr());
        }
        assertEquals(List.of("checkpoint-3", "checkpoint-5", "checkpoint-6", "checkpoint-8"), listing(out));
    }

    @Test
    void keepsOnlyTheLastCheckpointsAndNoTemporaryDirectory() throws IOException {
        Path out = tmp.resolve("run");
        TinyProblem p = new TinyProblem(5, 0.0, 1, 11);
        TrainConfig c = config().toBuilder().gradientAccumulationSteps(1).saveSteps(1).saveTotalLimit(2).maxSteps(5)
                .build();
        Trainer t = trainer(p, c, out);
        List<Long> saved = new ArrayList<>();
        t.addListener(new TrainListener() {
            @Override
            public void onStep(StepMetrics m) {
            }

            @Override
            public void onCheckpoint(long step, Path directory) {
                saved.add(step);
                assertTrue(Files.isRegularFile(directory.resolve(CheckpointStore.STATE)));
            }
        });
        t.train();
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), saved);
        assertEquals(List.of("checkpoint-4", "checkpoint-5"), listing(out));
        assertEquals(List.of(CheckpointStore.OPTIMIZER, CheckpointStore.WEIGHTS, CheckpointStore.STATE),
                listing(out.resolve("checkpoint-5")));
        assertEquals(out.resolve("checkpoint-5"), new CheckpointStore(out, 0).latest().orElseThrow());
    }

    @Test
    void checkpointHoldsWhatWasTrained() {
        Path out = tmp.resolve("run");
        TinyProblem p = new TinyProblem(5, 0.0, 1, 11);
        Trainer t = trainer(p, config().toBuilder().gradientAccumulationSteps(1).maxSteps(2).build(), out);
        t.train();
        CheckpointStore.Checkpoint c = CheckpointStore.read(out.resolve("checkpoint-2"));
        assertBitEqual(TinyProblem.snapshot(t.params()), TinyProblem.snapshot(c.weights()), "saved weights");
        assertBitEqual(TinyProblem.snapshot(t.optimizer().expAvg()), TinyProblem.snapshot(c.expAvg()), "exp_avg");
        assertBitEqual(TinyProblem.snapshot(t.optimizer().expAvgSq()), TinyProblem.snapshot(c.expAvgSq()), "exp_avg_sq");
        assertEquals(2, c.state().optimizerStep());
        assertEquals(TinyProblem.position(2).toString(), c.state().dataPosition().toString());
    }

    @Test
    void refusesToWriteNonFiniteValues() throws IOException {
        Path out = tmp.resolve("run");
        TinyProblem p = new TinyProblem(5, 0.0, 1, 11);
        Trainer t = trainer(p, config().toBuilder().gradientAccumulationSteps(1).build(), out);
        t.train(1);
        p.params.get(TinyProblem.A).putScalar(1, 1, Float.NaN);
        MorException e = assertThrows(MorException.class, t::save);
        assertTrue(e.getMessage().contains("refusing to write the checkpoint")
                && e.getMessage().contains("'lora_A'") && e.getMessage().contains("NaN/Inf"), e.getMessage());
        assertEquals(List.of("checkpoint-1"), listing(out));
    }

    @Test
    void nonFiniteOptimizerStateIsRefusedToo() throws IOException {
        Path out = tmp.resolve("run");
        CheckpointStore store = new CheckpointStore(out, 0);
        Map<String, INDArray> w = Map.of("w", Nd4j.ones(DataType.FLOAT, 3));
        AdamW opt = new AdamW(w, 0.9, 0.999, 1e-8, 0);
        INDArray inf = Nd4j.create(new float[] {1f, Float.POSITIVE_INFINITY, 0f}, new long[] {3}, DataType.FLOAT);
        opt.restore("test", 1, Map.of("w", Nd4j.zeros(DataType.FLOAT, 3)), Map.of("w", inf));
        TrainerState s = new TrainerState(1, 1, 1, 0, 0, config(), null);
        MorException e = assertThrows(MorException.class, () -> store.save(s, w, opt, null));
        assertTrue(e.getMessage().contains("optimizer exp_avg_sq of 'w' has 1 NaN/Inf value"), e.getMessage());
        assertFalse(Files.exists(out.resolve("checkpoint-1")));
        assertEquals(List.of(), Files.exists(out) ? listing(out) : List.of());
    }

    @Test
    void hookWritesThePeftAdapterIntoEachCheckpoint() {
        Path out = tmp.resolve("run");
        TinyProblem p = new TinyProblem(5, 0.0, 1, 11);
        AdapterConfig adapter = AdapterConfig.morDefaults();
        Trainer t = trainer(p, config().toBuilder().gradientAccumulationSteps(1).maxSteps(2).build(), out)
                .checkpointHook((dir, step) -> AdapterFiles.save(dir, adapter, p.params));
        t.train();
        AdapterFiles.Loaded loaded = AdapterFiles.load(out.resolve("checkpoint-2"));
        assertEquals(adapter.r(), loaded.config().r());
        assertBitEqual(TinyProblem.snapshot(p.params), TinyProblem.snapshot(loaded.weights()), "adapter weights");
    }

    @Test
    void failingOrClashingHookLeavesTheOldCheckpointsAndNoTrace() throws IOException {
        Path out = tmp.resolve("run");
        TinyProblem p = new TinyProblem(5, 0.0, 1, 11);
        boolean[] fail = {false};
        Trainer t = trainer(p, config().toBuilder().gradientAccumulationSteps(1).saveSteps(1).build(), out)
                .checkpointHook((dir, step) -> {
                    if (fail[0]) {
                        throw new MorException("disk full (simulated)");
                    }
                });
        t.train(1);
        fail[0] = true;
        MorException e = assertThrows(MorException.class, () -> t.train(2));
        assertEquals("disk full (simulated)", e.getMessage());
        assertEquals(List.of("checkpoint-1"), listing(out));

        t.checkpointHook((dir, step) -> {
            try {
                Files.writeString(dir.resolve(CheckpointStore.STATE), "{}");
            } catch (IOException x) {
                throw new AssertionError(x);
            }
        });
        e = assertThrows(MorException.class, t::save);
        assertTrue(e.getMessage().contains("reserves"), e.getMessage());
        assertEquals(List.of("checkpoint-1"), listing(out));
    }

    @Test
    void savingTheSameStepAgainReplacesTheCheckpoint() throws IOException {
        Path out = tmp.resolve("run");
        TinyProblem p = new TinyProblem(5, 0.0, 1, 11);
        Trainer t = trainer(p, config().toBuilder().gradientAccumulationSteps(1).build(), out);
        t.train(1);
        p.params.get(TinyProblem.B).addi(1.0f);
        t.save();
        assertEquals(List.of("checkpoint-1"), listing(out));
        CheckpointStore.Checkpoint c = CheckpointStore.read(out.resolve("checkpoint-1"));
        assertBitEqual(TinyProblem.snapshot(p.params), TinyProblem.snapshot(c.weights()), "replaced weights");
    }

    @Test
    void resumeChecksNamesShapesAndFiles() throws IOException {
        Path out = tmp.resolve("run");
        TinyProblem p = new TinyProblem(5, 0.0, 1, 11);
        trainer(p, config().toBuilder().gradientAccumulationSteps(1).build(), out).train(1);
        Path ckpt = out.resolve("checkpoint-1");
        GradientSource unused = (step, mb) -> {
            throw new AssertionError("not called");
        };

        Map<String, INDArray> renamed = new LinkedHashMap<>();
        renamed.put(TinyProblem.A, Nd4j.zeros(DataType.FLOAT, 6, 2));
        renamed.put("lora_C", Nd4j.zeros(DataType.FLOAT, 2, 4));
        MorException e = assertThrows(MorException.class,
                () -> new Trainer(config(), renamed, unused).resume(ckpt));
        assertTrue(e.getMessage().contains(CheckpointStore.WEIGHTS) && e.getMessage().contains("'lora_C' is missing"),
                e.getMessage());

        Map<String, INDArray> reshaped = new LinkedHashMap<>();
        reshaped.put(TinyProblem.A, Nd4j.zeros(DataType.FLOAT, 6, 3));
        reshaped.put(TinyProblem.B, Nd4j.zeros(DataType.FLOAT, 3, 4));
        e = assertThrows(MorException.class, () -> new Trainer(config(), reshaped, unused).resume(ckpt));
        assertTrue(e.getMessage().contains("key 'lora_A' has shape [6, 2]; the trainable weight has shape [6, 3]"),
                e.getMessage());
        assertEquals(0.0, reshaped.get(TinyProblem.A).sumNumber().doubleValue(), "nothing assigned on failure");

        Map<String, INDArray> fewer = Map.of(TinyProblem.A, Nd4j.zeros(DataType.FLOAT, 6, 2));
        e = assertThrows(MorException.class, () -> new Trainer(config(), fewer, unused).resume(ckpt));
        assertTrue(e.getMessage().contains("'lora_B', which the model does not train"), e.getMessage());

        Files.delete(ckpt.resolve(CheckpointStore.OPTIMIZER));
        e = assertThrows(MorException.class, () -> new Trainer(config(), p.params, unused).resume(ckpt));
        assertTrue(e.getMessage().startsWith(ckpt.resolve(CheckpointStore.OPTIMIZER) + ": not found"), e.getMessage());

        e = assertThrows(MorException.class, () -> new Trainer(config(), p.params, unused).resume(out.resolve("nope")));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
    }
}
