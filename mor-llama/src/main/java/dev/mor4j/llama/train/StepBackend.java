package dev.mor4j.llama.train;

import dev.mor4j.core.MorException;
import dev.mor4j.core.train.StepGradients;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.LlamaModel;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Where the micro-batches of each optimizer step of a {@link LlamaFineTune} run are computed: in this process when
 * none is given, or elsewhere, e.g. on the executors of an Apache Spark cluster (module mor-spark). A backend adds
 * each step's gradient sums, losses and router counts ({@link RouterStats.Counts}, in micro-batch order); the run
 * keeps everything else: the data order, the schedule, clipping, AdamW, checkpoints and resume. Because the step's
 * accumulator sums pairwise ({@link dev.mor4j.core.train.PairwiseSums}), a backend that computes the same
 * micro-batches with {@link MicroBatchGradients} gives the same bits as this process.
 *
 * <p>Backends are found by name through {@link ServiceLoader} ({@link #find}), so a command line can offer one
 * without depending on its module: the module registers its {@link Provider} in
 * {@code META-INF/services/dev.mor4j.llama.train.StepBackend$Provider}.
 */
public interface StepBackend extends AutoCloseable {

    /**
     * What a backend needs of a run.
     *
     * @param model        the base model (a worker loads its own copy from {@code model.directory()})
     * @param adapters     the adapters being trained; their weights are the arrays the trainer updates
     * @param microBatches the run's micro-batches, as its {@link TrainingData} builds them (padded or packed)
     * @param config       the training configuration (seed, gradient accumulation)
     * @param options      batching and loss reduction
     * @param recompute    whether to recompute activations layer by layer (the same gradients either way)
     * @param routerStats  where the router counts go (for adapters without a router it has no modules)
     */
    record Run(LlamaModel model, LlamaAdapters adapters, MicroBatches microBatches, TrainConfig config,
            FineTuneOptions options, boolean recompute, RouterStats routerStats) {
    }

    /** The micro-batches of a run; each is asked for once per step, when the step computes it. */
    @FunctionalInterface
    interface MicroBatches {

        /** Micro-batch {@code microBatch} of 0-based optimizer step {@code step}. */
        MicroBatch microBatch(long step, int microBatch);
    }

    /** Makes backends of one kind. */
    interface Provider {

        /** The backend's name, e.g. {@code spark}. */
        String name();

        /**
         * @param target      where to run, in the backend's terms (for Spark the master URL; empty: the one the
         *                    launcher configured)
         * @param parallelism how many workers share each step; 0 for the backend's default
         */
        StepBackend create(String target, int parallelism);
    }

    /**
     * Starts serving a run; called once, when the run is built.
     *
     * @return computes each step's micro-batches into the trainer's accumulator
     */
    StepGradients start(Run run);

    /** Lines for the run's summary: where the steps ran and what moved per step. */
    default List<String> summary() {
        return List.of();
    }

    /** Releases what the backend holds (e.g. its cluster connection). */
    @Override
    default void close() {
    }

    /**
     * The backend {@code name} from the providers on the class path.
     *
     * @throws MorException naming the backends found when none has that name
     */
    static StepBackend find(String name, String target, int parallelism) {
        List<String> names = new ArrayList<>();
        for (Provider p : ServiceLoader.load(Provider.class)) {
            if (p.name().equals(name)) {
                return p.create(target, parallelism);
            }
            names.add(p.name());
        }
        throw new MorException("no '" + name + "' training backend on the class path (found "
                + (names.isEmpty() ? "none" : String.join(", ", names)) + "); it comes with module mor-" + name
                + ", which ./mor puts on the class path when asked for it");
    }
}
