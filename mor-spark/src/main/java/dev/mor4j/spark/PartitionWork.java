package dev.mor4j.spark;

import dev.mor4j.llama.train.MicroBatchGradients;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * A partition's share of an optimizer step, on an executor: its run of consecutive micro-batches computed one after
 * another by a {@link Worker} with the step's broadcast adapter weights, summed pairwise into a {@link StepPart}.
 * A micro-batch's gradient depends only on the weights, the micro-batch and its place in the run, so a retried or
 * speculative task returns the same bits.
 */
final class PartitionWork {

    private static final AtomicInteger FAULTS = new AtomicInteger();

    private PartitionWork() {
    }

    /** Faults injected in this JVM so far (tests, local mode). */
    static int faultsInjected() {
        return FAULTS.get();
    }

    /**
     * @param spec      the run
     * @param step      the 0-based optimizer step
     * @param count     n, the step's micro-batches
     * @param weights   the step's adapter weights
     * @param partition this partition's index
     * @param tasks     this partition's micro-batches
     * @return one part: this partition's sums and outcomes
     */
    static Iterator<StepPart> run(WorkerSpec spec, long step, int count, Broadcast<AdapterSnapshot> weights,
            int partition, Iterator<MicroBatchTask> tasks) {
        List<MicroBatchTask> mine = new ArrayList<>();
        tasks.forEachRemaining(mine::add);
        StepPart part = StepPart.empty(spec, count);
        if (mine.isEmpty()) {
            return List.of(part).iterator();
        }
        TaskContext ctx = TaskContext.get();
        boolean fail = spec.fault() != null && spec.fault().step() == step && spec.fault().partition() == partition
                && ctx != null && ctx.attemptNumber() == 0;
        AdapterSnapshot snapshot = weights.value();
        long version = weights.id();
        String executor = SparkEnv.get().executorId();
        Worker worker = ResidentModels.pool(spec).borrow();
        return List.of(worker.run(() -> {
            MicroBatchGradients gradients = worker.load(version, snapshot);
            for (MicroBatchTask t : mine) {
                part.add(t.index(), gradients.compute(step, t.index(), t.microBatch()));
                if (fail) {
                    FAULTS.incrementAndGet();
                    throw new IllegalStateException("injected fault: step " + step + ", partition " + partition
                            + ", first attempt, after micro-batch " + t.index());
                }
            }
            part.seal(executor);
            return part;
        })).iterator();
    }
}
