package dev.mor4j.spark;

import dev.mor4j.core.MorException;
import dev.mor4j.core.train.StepGradients;
import dev.mor4j.llama.train.StepBackend;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Data-parallel fine-tuning on Apache Spark: the driver (this process) keeps the training loop of
 * {@link dev.mor4j.llama.train.LlamaFineTune} and Spark's executors compute each step's micro-batches
 * ({@link SparkSteps}). A step on k partitions is the same bits as the single-process step with gradient
 * accumulation over the same micro-batches.
 *
 * <pre>{@code
 * try (SparkBackend spark = new SparkBackend("local[2]", 2)) {
 *     LlamaFineTune ft = LlamaFineTune.builder(model, adapters, examples).trainConfig(cfg).backend(spark).build();
 *     ft.train();
 *     spark.summary().forEach(System.out::println);
 * }
 * }</pre>
 *
 * <p>Executors load the frozen model from {@code model.directory()}, which must be readable at that path on every
 * executor (a shared file system, or the same files on every node); in local mode they use the driver's copy.
 */
public final class SparkBackend implements StepBackend {

    private final JavaSparkContext sc;
    private final boolean ownsContext;
    private final int partitions;
    private final StepTraffic traffic = new StepTraffic();
    private WorkerSpec.Fault fault;

    /**
     * Starts (or joins, under spark-submit) a Spark context.
     *
     * @param master     the master URL, e.g. {@code local[2]}, {@code spark://host:7077}, {@code yarn}; empty to use
     *                   the one spark-submit configured
     * @param partitions partitions per step; 0 for the context's default parallelism (its executors' cores)
     * @throws MorException if no master is given and none is configured
     */
    public SparkBackend(String master, int partitions) {
        this(context(master), true, partitions);
    }

    /**
     * Uses a running context, which {@link #close()} leaves running.
     *
     * @param partitions partitions per step; 0 for the context's default parallelism
     */
    public SparkBackend(JavaSparkContext sc, int partitions) {
        this(sc, false, partitions);
    }

    private SparkBackend(JavaSparkContext sc, boolean ownsContext, int partitions) {
        if (partitions < 0) {
            throw new MorException("--partitions is " + partitions + "; expected an integer ≥ 1 (or 0 for Spark's"
                    + " default parallelism)");
        }
        this.sc = sc;
        this.ownsContext = ownsContext;
        this.partitions = partitions > 0 ? partitions : Math.max(1, sc.defaultParallelism());
    }

    private static JavaSparkContext context(String master) {
        SparkConf conf = new SparkConf().setAppName("mor4j finetune")
                .setIfMissing("spark.ui.showConsoleProgress", "false"); // the run prints its own progress
        if (master != null && !master.isEmpty()) {
            conf.setMaster(master);
            if (master.startsWith("local")) { // one JVM: no need to resolve this machine's network name
                conf.setIfMissing("spark.driver.host", "localhost")
                        .setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            }
        } else if (!conf.contains("spark.master")) {
            throw new MorException("--spark without a master URL takes the master from spark-submit, but none is"
                    + " configured; give one, e.g. --spark local[2] or --spark spark://host:7077");
        }
        return JavaSparkContext.fromSparkContext(SparkContext.getOrCreate(conf));
    }

    /** Partitions per step (a step with fewer micro-batches uses one partition per micro-batch). */
    public int partitions() {
        return partitions;
    }

    public JavaSparkContext context() {
        return sc;
    }

    /**
     * Test hook: the first attempt of {@code partition}'s task in step {@code step} (0-based) fails after its first
     * micro-batch; Spark then runs it again (with local mode, give retries: {@code local[2,2]}).
     */
    void injectFault(long step, int partition) {
        this.fault = new WorkerSpec.Fault(step, partition);
    }

    @Override
    public StepGradients start(Run run) {
        if (sc.isLocal()) {
            ResidentModels.share(run.model());
        }
        int n = run.config().gradientAccumulationSteps();
        if (n < partitions) {
            System.err.println("spark: a step has " + n + " micro-batches (--grad-accum), so only " + n + " of the "
                    + partitions + " partitions get work; raise --grad-accum to use them all");
        }
        return new SparkSteps(sc, partitions, run, WorkerSpec.of(run, fault), traffic);
    }

    /** Partitions, executors and bytes per step so far. */
    @Override
    public List<String> summary() {
        return List.of(traffic.describe() + " (master " + sc.master() + ")");
    }

    /** What moved per step so far. */
    StepTraffic traffic() {
        return traffic;
    }

    /**
     * Stops the Spark context if this backend started it; in local mode also drops what the executors kept in this
     * JVM (the models and the workers' graphs).
     */
    @Override
    public void close() {
        boolean local = sc.isLocal();
        if (ownsContext) {
            sc.stop();
        }
        if (local) {
            ResidentModels.clear();
        }
    }
}
