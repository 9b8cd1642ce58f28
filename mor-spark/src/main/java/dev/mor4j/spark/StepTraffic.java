package dev.mor4j.spark;

import java.util.Locale;
import java.util.TreeSet;

/**
 * What moved between the driver and the executors in the steps of a run, for the run's summary: per step, the
 * adapter weights broadcast (one copy to each executor that ran a task), the micro-batches sent with the tasks and
 * the gradient sums the partitions returned (their float32 values); and the partitions and executors that took
 * part. In local mode the "executor" is the driver's own JVM and nothing crosses a network; the sizes are those a
 * cluster would move.
 */
final class StepTraffic {

    private long steps;
    private long broadcastBytes; // summed over steps
    private long movedBytes; // broadcast × executors + tasks + results, summed over steps
    private long taskBytes;
    private long resultBytes;
    private int mostPartitions;
    private final TreeSet<String> executors = new TreeSet<>();

    /**
     * Records one step.
     *
     * @param broadcast  bytes of the adapter weights broadcast
     * @param tasks      bytes of the serialized micro-batches sent with the tasks
     * @param results    bytes of gradient sums the partitions returned
     * @param partitions partitions that computed micro-batches
     * @param ranOn      the executors those partitions ran on
     */
    synchronized void record(long broadcast, long tasks, long results, int partitions, TreeSet<String> ranOn) {
        steps++;
        broadcastBytes += broadcast;
        taskBytes += tasks;
        resultBytes += results;
        movedBytes += broadcast * ranOn.size() + tasks + results;
        mostPartitions = Math.max(mostPartitions, partitions);
        executors.addAll(ranOn);
    }

    /** Mean bytes a step moved: weights to each executor, micro-batches out, gradient sums back. */
    synchronized long bytesPerStep() {
        return steps == 0 ? 0 : movedBytes / steps;
    }

    /** Mean bytes of gradient sums the partitions returned per step. */
    synchronized long resultBytesPerStep() {
        return steps == 0 ? 0 : resultBytes / steps;
    }

    /** Mean bytes of adapter weights broadcast per step (one copy). */
    synchronized long broadcastBytesPerStep() {
        return steps == 0 ? 0 : broadcastBytes / steps;
    }

    /** One line for the run's summary. */
    synchronized String describe() {
        if (steps == 0) {
            return "spark: no step ran";
        }
        return String.format(Locale.ROOT, "spark: %d partition%s on %d executor%s %s; %s moved per step: %s of adapter"
                        + " weights broadcast to each executor, %s of micro-batches with the tasks, %s of gradient sums"
                        + " back", mostPartitions, mostPartitions == 1 ? "" : "s", executors.size(),
                executors.size() == 1 ? "" : "s", executors, size(bytesPerStep()), size(broadcastBytes / steps),
                size(taskBytes / steps), size(resultBytes / steps));
    }

    /** {@code bytes} in B, KiB or MiB. */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
}
