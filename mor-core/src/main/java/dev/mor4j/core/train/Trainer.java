package dev.mor4j.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.core.MorException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop over any graph that a {@link GradientSource} differentiates, or whose steps a
 * {@link StepGradients} computes elsewhere. Each optimizer step {@code k} (0-based) of {@code [start, max_steps)}:
 *
 * <ol>
 *   <li>runs {@code gradient_accumulation_steps} micro-batches and averages their gradients and losses
 *       ({@link GradientAccumulator}, summing pairwise: the same bits wherever the micro-batches ran);</li>
 *   <li>takes the global gradient norm; if the loss or any gradient is NaN/Inf the update is skipped (weights
 *       and optimizer state untouched) and after {@code max_consecutive_nonfinite} skips in a row training
 *       stops with a {@link MorException};</li>
 *   <li>otherwise clips the gradients ({@link GradClip}) and applies {@link AdamW} with the rate
 *       {@link LrSchedule#lr(long) lr(k)};</li>
 *   <li>tells the listeners ({@link StepMetrics}) and saves a checkpoint every {@code save_steps} steps and
 *       at the end.</li>
 * </ol>
 *
 * <p>A skipped step still counts as a step: its data is consumed and the schedule moves on; only the
 * optimizer's bias-correction count stands still.
 *
 * <p>Nothing here is random. With a deterministic {@link GradientSource} (randomness drawn from
 * {@code (seed, step, micro-batch)}) a run resumed from {@code checkpoint-k} produces bit for bit the weights
 * and optimizer state of an uninterrupted run on the same CPU backend.
 */
public final class Trainer {

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final TrainConfig config;
    private final Map<String, INDArray> params;
    private final StepGradients source;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final List<TrainListener> listeners = new ArrayList<>();
    private final Deque<Map<String, INDArray>> gradientBuffers = new ArrayDeque<>(); // sets of sums, reused
    private CheckpointStore store;
    private CheckpointHook hook;
    private Supplier<JsonNode> dataPosition = () -> null;
    private long globalStep;
    private int consecutiveNonfinite;
    private Path lastCheckpoint;

    /**
     * @param config the hyper-parameters
     * @param params the trainable weights by name, updated in place: the very arrays the graph reads (for a
     *               SameDiff graph, {@link SameDiffGradients#trainableArrays()}); each FLOAT
     * @param source computes loss and gradients of one micro-batch
     */
    public Trainer(TrainConfig config, Map<String, INDArray> params, GradientSource source) {
        this(config, params, StepGradients.of(source));
    }

    /**
     * As {@link #Trainer(TrainConfig, Map, GradientSource)}, with each step's micro-batches computed by
     * {@code steps} as a whole (e.g. on a cluster). A factory rather than a constructor, so that a lambda given to
     * the constructor stays a {@link GradientSource}.
     */
    public static Trainer ofSteps(TrainConfig config, Map<String, INDArray> params, StepGradients steps) {
        return new Trainer(config, params, steps);
    }

    private Trainer(TrainConfig config, Map<String, INDArray> params, StepGradients source) {
        if (params.isEmpty()) {
            throw new MorException("no trainable weights given");
        }
        this.config = config;
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        this.source = source;
        this.optimizer = AdamW.of(this.params, config);
        this.schedule = LrSchedule.of(config);
    }

    /** Saves checkpoints in {@code store}; without one, none are written. */
    public Trainer checkpoints(CheckpointStore store) {
        this.store = store;
        return this;
    }

    /** Lets the caller add files (e.g. the PEFT adapter) to each checkpoint. */
    public Trainer checkpointHook(CheckpointHook hook) {
        this.hook = hook;
        return this;
    }

    /** Describes where the caller's data stands; saved as {@code data_position} in each checkpoint. */
    public Trainer dataPosition(Supplier<JsonNode> dataPosition) {
        this.dataPosition = dataPosition;
        return this;
    }

    public Trainer addListener(TrainListener listener) {
        listeners.add(listener);
        return this;
    }

    /**
     * Restores a checkpoint: assigns the saved weights into the trainable arrays, restores the optimizer
     * state and the step counters. Training then continues at the checkpoint's global step.
     *
     * @return the saved state; its {@link TrainerState#dataPosition()} tells the caller where to resume the data
     * @throws MorException if the checkpoint is malformed or its names or shapes do not match the trainables
     */
    public TrainerState resume(Path checkpointDir) {
        CheckpointStore.Checkpoint c = CheckpointStore.read(checkpointDir);
        String weightsFile = checkpointDir.resolve(CheckpointStore.WEIGHTS).toString();
        String optimizerFile = checkpointDir.resolve(CheckpointStore.OPTIMIZER).toString();
        checkNames(weightsFile, "trainable weight", c.weights().keySet());
        checkNames(optimizerFile, "optimizer state of", new TreeSet<>(c.expAvg().keySet()));
        checkNames(optimizerFile, "optimizer state of", new TreeSet<>(c.expAvgSq().keySet()));
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray saved = c.weights().get(e.getKey());
            if (!Arrays.equals(saved.shape(), e.getValue().shape())) {
                throw new MorException(weightsFile + ": key '" + e.getKey() + "' has shape "
                        + Arrays.toString(saved.shape()) + "; the trainable weight has shape "
                        + Arrays.toString(e.getValue().shape()));
            }
        }
        TrainerState s = c.state();
        optimizer.restore(optimizerFile, s.optimizerStep(), c.expAvg(), c.expAvgSq());
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            e.getValue().assign(c.weights().get(e.getKey()));
        }
        if (!s.config().equals(config)) {
            LOG.warn("{}: resuming with a training config that differs from the saved one; the run will not "
                    + "repeat an uninterrupted one (saved {}, now {})", checkpointDir, s.config(), config);
        }
        globalStep = s.globalStep();
        consecutiveNonfinite = s.consecutiveNonfinite();
        lastCheckpoint = checkpointDir;
        return s;
    }

    /** Trains up to {@code max_steps}. */
    public void train() {
        train(config.maxSteps());
    }

    /**
     * Trains until the global step reaches {@code untilStep} (at most {@code max_steps}) and saves a
     * checkpoint there; the schedule still spans {@code max_steps}. Calling it again continues.
     *
     * @throws MorException after {@code max_consecutive_nonfinite} consecutive skipped steps
     */
    public void train(long untilStep) {
        long end = Math.min(untilStep, config.maxSteps());
        long started = System.nanoTime();
        while (globalStep < end) {
            StepMetrics m = step(started);
            for (TrainListener l : listeners) {
                l.onStep(m);
            }
            if (consecutiveNonfinite >= config.maxConsecutiveNonfinite()) {
                throw new MorException("step " + globalStep + ": training stopped after " + consecutiveNonfinite
                        + " consecutive steps with non-finite values (max_consecutive_nonfinite = "
                        + config.maxConsecutiveNonfinite() + "); this step: " + m.skipReason() + ". The weights are"
                        + " those after step " + (globalStep - consecutiveNonfinite) + "; lower learning_rate or"
                        + " max_grad_norm, or check the data, then resume from the last checkpoint"
                        + (lastCheckpoint == null ? "" : " (" + lastCheckpoint + ")"));
            }
            if (store != null && config.saveSteps() > 0 && globalStep % config.saveSteps() == 0) {
                save();
            }
        }
        if (store != null && globalStep == end && end > 0 && !isSaved(globalStep)) {
            save();
        }
    }

    /** Runs optimizer step {@code globalStep} (0-based): accumulate, check, clip, update. */
    private StepMetrics step(long started) {
        long t0 = System.nanoTime();
        long k = globalStep;
        GradientAccumulator acc = new GradientAccumulator(params, config.gradientAccumulationSteps(), gradientBuffers);
        source.accumulate(k, acc);
        Map<String, INDArray> grads = acc.meanGradients();
        double norm = GradClip.totalNorm(grads.values());
        double lr = schedule.lr(k);
        String bad = acc.nonFiniteLoss();
        if (bad == null && !Double.isFinite(norm)) {
            bad = NonFinite.describe("gradient of", grads);
            if (bad == null) {
                bad = "the global gradient norm overflowed to " + norm;
            }
        }
        if (bad == null) {
            GradClip.clip(grads.values(), norm, config.maxGradNorm());
            optimizer.step(grads, lr);
            consecutiveNonfinite = 0;
        } else {
            consecutiveNonfinite++;
            LOG.warn("step {}: skipped the update: {}", k + 1, bad);
        }
        acc.release();
        globalStep = k + 1;
        long now = System.nanoTime();
        double seconds = (now - t0) / 1e9;
        return new StepMetrics(globalStep, acc.meanLoss(), lr, norm, acc.tokens(),
                seconds > 0 ? acc.tokens() / seconds : 0, bad != null, bad, (now - started) / 1e9);
    }

    /** Writes {@code checkpoint-<global step>} now (needs a {@link CheckpointStore}). */
    public Path save() {
        if (store == null) {
            throw new IllegalStateException("no checkpoint store set");
        }
        TrainerState s = new TrainerState(TrainerState.FORMAT_VERSION, globalStep, optimizer.stepCount(),
                consecutiveNonfinite, config.seed(), config, dataPosition.get());
        lastCheckpoint = store.save(s, params, optimizer, hook);
        for (TrainListener l : listeners) {
            l.onCheckpoint(globalStep, lastCheckpoint);
        }
        return lastCheckpoint;
    }

    private boolean isSaved(long step) {
        return lastCheckpoint != null
                && lastCheckpoint.toAbsolutePath().normalize().equals(store.directory(step).toAbsolutePath().normalize());
    }

    private void checkNames(String file, String what, Set<String> saved) {
        for (String name : params.keySet()) {
            if (!saved.contains(name)) {
                throw new MorException(file + ": " + what + " '" + name + "' is missing; the checkpoint holds "
                        + new TreeSet<>(saved) + ", the model trains " + params.keySet());
            }
        }
        for (String name : saved) {
            if (!params.containsKey(name)) {
                throw new MorException(file + ": holds " + what + " '" + name + "', which the model does not train"
                        + " (it trains " + params.keySet() + ")");
            }
        }
    }

    /** Optimizer steps done (skipped ones included). */
    public long globalStep() {
        return globalStep;
    }

    public TrainConfig config() {
        return config;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public LrSchedule schedule() {
        return schedule;
    }

    /** The trainable weights (the live arrays). */
    public Map<String, INDArray> params() {
        return params;
    }

    /** The checkpoint written or resumed from most recently, or null. */
    public Path lastCheckpoint() {
        return lastCheckpoint;
    }
}
