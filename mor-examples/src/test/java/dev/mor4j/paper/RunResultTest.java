package dev.mor4j.paper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.eval.RouterProbe;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run's result survives its file, NaN losses included, and is found only for the run it belongs to. */
class RunResultTest {

    @TempDir
    Path tmp;

    @Test
    void aSavedRunIsFoundForItsSpecAndRefusedForAnother() {
        Map<String, Double> acc = new LinkedHashMap<>();
        acc.put("addition", 0.5);
        acc.put("dates", 0.25);
        RouterProbe.TaskWeights w = new RouterProbe.TaskWeights(List.of("m0"), 2, List.of("addition", "dates"),
                new int[] {3, 4}, new double[][][] {{{0.3, 0.7}}, {{0.6, 0.4}}});
        RunSpec spec = new RunSpec(PaperMethod.MOR_E8_R8, RunSpec.Phase.FINAL, 0.003, 1);
        RunResult r = new RunResult("mor-e8-r8", "final", 0.003, 1, 3, 100, 1234, 5.0, Double.NaN, 1.0, 2.0,
                new double[] {2.5, Double.NaN, 2.0}, false, null, acc, acc, w, w, null);
        Path dir = spec.dir(tmp);
        assertTrue(dir.endsWith(Path.of("runs", "final", "mor-e8-r8", "lr-0.003-seed-1")), dir.toString());
        r.save(dir);
        RunResult back = RunResult.find(dir, spec, 3).orElseThrow();
        assertArrayEquals(r.loss(), back.loss());
        assertTrue(Double.isNaN(back.secondsPerStep()));
        assertEquals(acc, back.accuracy());
        assertEquals(List.of("addition", "dates"), List.copyOf(back.accuracy().keySet()));
        assertEquals(0.375, back.averageAccuracy(), 1e-12);
        assertArrayEquals(w.weights()[1][0], back.router().weights()[1][0]);
        assertEquals(3.0, back.evalSeconds(), 1e-12);
        assertEquals(2.0, back.finalLoss(), 1e-12, "the last tenth of 3 steps is the last step");

        MorException e = assertThrows(MorException.class, () -> RunResult.find(dir,
                new RunSpec(PaperMethod.MOR_E8_R8, RunSpec.Phase.FINAL, 0.003, 1), 4));
        assertTrue(e.getMessage().contains("expected mor-e8-r8 lr 0.003 seed 1 (final) with 4 steps"), e.getMessage());
        assertTrue(RunResult.find(tmp.resolve("nothing"), spec, 3).isEmpty());
    }
}
