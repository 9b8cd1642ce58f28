package dev.mor4j.spark;

import dev.mor4j.core.MorException;
import dev.mor4j.core.train.GradientAccumulator;
import dev.mor4j.core.train.StepGradients;
import dev.mor4j.llama.train.StepBackend;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * One optimizer step as one Spark job, on the driver. The step's {@code n} micro-batches (built by the run's
 * {@link dev.mor4j.llama.train.TrainingData}, padded or packed, as in a single process) become an RDD of {@code k = min(partitions,
 * n)} partitions of consecutive micro-batches; the adapter weights are broadcast; each partition computes its
 * micro-batches on an executor ({@link PartitionWork}) and {@code treeAggregate} merges the partitions' pairwise
 * sums ({@link StepPart}) into the step's total, which goes to the trainer's accumulator with the losses and router
 * counts. The broadcast is destroyed when the step ends.
 */
final class SparkSteps implements StepGradients {

    private final JavaSparkContext sc;
    private final int partitions;
    private final StepBackend.Run run;
    private final WorkerSpec spec;
    private final StepTraffic traffic;

    SparkSteps(JavaSparkContext sc, int partitions, StepBackend.Run run, WorkerSpec spec, StepTraffic traffic) {
        this.sc = sc;
        this.partitions = partitions;
        this.run = run;
        this.spec = spec;
        this.traffic = traffic;
    }

    @Override
    public void accumulate(long step, GradientAccumulator into) {
        int n = into.microBatches();
        List<MicroBatchTask> work = new ArrayList<>(n);
        for (int mb = 0; mb < n; mb++) {
            work.add(new MicroBatchTask(mb, run.microBatches().microBatch(step, mb)));
        }
        AdapterSnapshot snapshot = AdapterSnapshot.of(run.adapters().weights(), spec.names());
        Broadcast<AdapterSnapshot> weights = sc.broadcast(snapshot);
        int k = Math.min(partitions, n);
        WorkerSpec s = spec;
        StepPart total;
        try {
            sc.setJobDescription("mor4j step " + (step + 1) + " of " + run.config().maxSteps());
            JavaRDD<MicroBatchTask> rdd = sc.parallelize(work, k);
            total = rdd.mapPartitionsWithIndex((p, it) -> PartitionWork.run(s, step, n, weights, p, it), false)
                    .treeAggregate(StepPart.empty(s, n), StepPart::merge, StepPart::merge);
        } catch (RuntimeException e) {
            if (e instanceof MorException) {
                throw e;
            }
            throw failed(step, e);
        } catch (Exception e) { // SparkException, which Scala throws undeclared
            throw failed(step, e);
        } finally {
            weights.destroy();
        }
        total.drainInto(into, run.routerStats());
        traffic.record(snapshot.bytes(), serializedSize(work), total.partitionBytes(), k, total.executors());
    }

    /** One line saying that the step's job failed (after Spark's retries) and why. */
    private static MorException failed(long step, Exception e) {
        String why = String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString());
        return new MorException("step " + (step + 1) + ": the Spark job failed after its task retries: " + why
                + " (the last checkpoint resumes the run)", e);
    }

    /** Bytes of {@code o} in Java serialization (as Spark ships a task's data). */
    private static long serializedSize(Object o) {
        long[] count = {0};
        OutputStream counter = new OutputStream() {
            @Override
            public void write(int b) {
                count[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                count[0] += len;
            }
        };
        try (ObjectOutputStream out = new ObjectOutputStream(counter)) {
            out.writeObject(o);
        } catch (IOException e) {
            throw new MorException("cannot serialize the step's micro-batches: " + e.getMessage(), e);
        }
        return count[0];
    }
}
