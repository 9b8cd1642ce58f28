package dev.mor4j.core.train;

import java.nio.file.Path;

/** Told about every optimizer step and every checkpoint written. Exceptions thrown here stop training. */
public interface TrainListener {

    /** Called after each optimizer step, including skipped ones. */
    void onStep(StepMetrics metrics);

    /** Called after a checkpoint directory is complete. */
    default void onCheckpoint(long step, Path directory) {
    }
}
