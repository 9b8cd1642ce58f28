package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.train.StepMetrics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressReporterTest {

    private static StepMetrics step(long n, double loss) {
        return new StepMetrics(n, loss, 1e-3, 0.5, 100, 1000, false, null, n * 0.1);
    }

    private static String run(boolean interactive) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (ProgressReporter p = new ProgressReporter(err, 4, interactive)) {
            p.start(1);
            p.onStep(step(2, 10.0));
            p.onStep(step(3, 8.0));
            p.onStep(new StepMetrics(4, Double.NaN, 1e-3, Double.NaN, 100, 1000, true, "loss of micro-batch 0 is NaN", 0.4));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void plainModeWritesOneLinePerStepWithTheRunningLoss() {
        String out = run(false);
        assertTrue(out.startsWith("training steps 2 to 4\n"), out);
        assertTrue(out.contains("step 2/4  loss 10.0000  (running 10.0000)  lr 1.000e-03  grad_norm 0.500"), out);
        assertTrue(out.contains("step 3/4  loss 8.0000  (running 9.0000)"), out);
        assertTrue(out.contains("step 4/4 skipped: loss of micro-batch 0 is NaN"), out);
    }

    @Test
    void interactiveModeDrawsABarWithTheRunningLoss() {
        String out = run(true);
        assertTrue(out.contains("finetune"), out);
        assertTrue(out.contains("4/4"), out);
        assertTrue(out.contains("loss 9.0000"), out);
    }
}
