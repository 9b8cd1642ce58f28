package dev.mor4j.cli;

import dev.mor4j.core.train.StepMetrics;
import dev.mor4j.core.train.TrainListener;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows training progress on standard error: a progress bar with ETA and running loss when standard error is
 * a terminal, one plain line per step otherwise (logs, CI).
 */
final class ProgressReporter implements TrainListener, AutoCloseable {

    /** Steps the running loss is averaged over. */
    static final int WINDOW = 10;

    private final String task;
    private final PrintStream err;
    private final long maxSteps;
    private final boolean interactive;
    private ProgressBar bar;
    private final Deque<Double> recent = new ArrayDeque<>();
    private double recentSum;

    /** @param interactive draw a progress bar (standard error is a terminal) */
    ProgressReporter(PrintStream err, long maxSteps, boolean interactive) {
        this("finetune", err, maxSteps, interactive);
    }

    /**
     * @param task        the progress bar's title (the command)
     * @param interactive draw a progress bar (standard error is a terminal)
     */
    ProgressReporter(String task, PrintStream err, long maxSteps, boolean interactive) {
        this.task = task;
        this.err = err;
        this.maxSteps = maxSteps;
        this.interactive = interactive;
    }

    /** Called when training starts at {@code startStep} (0, or the step of the checkpoint resumed from). */
    void start(long startStep) {
        if (interactive && bar == null) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(maxSteps)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setConsumer(new ConsoleProgressBarConsumer(err))
                    .setUnit(" steps", 1).startsFrom(startStep, Duration.ZERO).setUpdateIntervalMillis(250).build();
        } else if (!interactive) {
            err.println(startStep == 0 ? "training " + maxSteps + " steps"
                    : "training steps " + (startStep + 1) + " to " + maxSteps);
        }
    }

    @Override
    public void onStep(StepMetrics m) {
        if (Double.isFinite(m.loss())) {
            recent.addLast(m.loss());
            recentSum += m.loss();
            if (recent.size() > WINDOW) {
                recentSum -= recent.removeFirst();
            }
        }
        double running = recent.isEmpty() ? Double.NaN : recentSum / recent.size();
        if (bar != null) {
            bar.stepTo(m.step());
            bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f lr %.2e", running, m.lr()));
            return;
        }
        if (m.skipped()) {
            err.printf(Locale.ROOT, "step %d/%d skipped: %s%n", m.step(), maxSteps, m.skipReason());
            return;
        }
        err.printf(Locale.ROOT, "step %d/%d  loss %.4f  (running %.4f)  lr %.3e  grad_norm %.3f  %.0f tok/s  %.1fs%n",
                m.step(), maxSteps, m.loss(), running, m.lr(), m.gradNorm(), m.tokensPerSecond(), m.elapsedSeconds());
    }

    @Override
    public void onCheckpoint(long step, Path directory) {
        if (bar == null) {
            err.println("saved " + directory);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
