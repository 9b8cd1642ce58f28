package dev.mor4j.core.train;

import java.nio.file.Path;

/**
 * Writes the caller's own files into a checkpoint while it is being built, e.g. the adapter in PEFT's layout
 * so that every checkpoint directory also loads as an adapter:
 *
 * <pre>{@code
 * trainer.checkpointHook((dir, step) -> AdapterFiles.save(dir, adapterConfig, adapterWeights));
 * }</pre>
 *
 * <p>The directory is the temporary one ({@code <out>/.checkpoint-<step>.tmp}); whatever the hook writes
 * there (files or sub-directories) is flushed to disk and becomes visible only when the whole checkpoint is
 * renamed into place. The hook runs before the trainer's own files are written and must not use their names
 * ({@link CheckpointStore#WEIGHTS}, {@link CheckpointStore#OPTIMIZER}, {@link CheckpointStore#STATE}). An
 * exception thrown here abandons the checkpoint and is passed on.
 */
@FunctionalInterface
public interface CheckpointHook {

    /**
     * @param directory the checkpoint directory being built
     * @param step      the global step the checkpoint is taken at
     */
    void write(Path directory, long step);
}
