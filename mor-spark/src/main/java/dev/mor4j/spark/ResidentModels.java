package dev.mor4j.spark;

import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * What an executor JVM keeps between tasks: each frozen model, loaded once from its directory (mapped from the
 * safetensors files) and shared by every task, and the workers of the current run ({@link WorkerPool}). The first
 * task of a run on an executor pays for the load; every later task and step finds the model in memory. A new run
 * replaces the previous run's workers (their graphs), not the models.
 */
final class ResidentModels {

    private static final Map<String, LlamaModel> MODELS = new HashMap<>();
    private static WorkerPool pool;

    private ResidentModels() {
    }

    /** The model in {@code dir}, loaded on first use. */
    static synchronized LlamaModel model(String dir) {
        return MODELS.computeIfAbsent(key(dir), d -> LlamaModel.load(Path.of(d)));
    }

    /**
     * Lets executors in this JVM use a model the driver already loaded (Spark's local mode, where the executor is
     * the driver's JVM) instead of loading a second copy.
     */
    static synchronized void share(LlamaModel model) {
        MODELS.putIfAbsent(key(model.directory().toString()), model);
    }

    /** The workers of {@code spec}'s run, made on its first task here. */
    static synchronized WorkerPool pool(WorkerSpec spec) {
        if (pool == null || !pool.runId().equals(spec.runId())) {
            if (pool != null) {
                pool.close();
            }
            pool = new WorkerPool(spec);
        }
        return pool;
    }

    /**
     * Drops the models and the workers, for a JVM that ran executors in local mode and goes on without Spark; on a
     * cluster executors keep them until they exit with the application.
     */
    static synchronized void clear() {
        if (pool != null) {
            pool.close();
            pool = null;
        }
        MODELS.clear();
    }

    private static String key(String dir) {
        return Path.of(dir).toAbsolutePath().normalize().toString();
    }
}
