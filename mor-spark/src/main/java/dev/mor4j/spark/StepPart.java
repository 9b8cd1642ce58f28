package dev.mor4j.spark;

import dev.mor4j.core.MorException;
import dev.mor4j.core.train.GradientAccumulator;
import dev.mor4j.core.train.PairwiseSums;
import dev.mor4j.llama.train.MicroBatchGradients;
import dev.mor4j.llama.train.RouterStats;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What some of a step's micro-batches produced, as a partition returns it and {@code treeAggregate} merges it: the
 * gradient sums as pending blocks of the step's pairwise tree ({@link PairwiseSums}), and each micro-batch's loss,
 * token count and router counts. Merging adds sibling blocks as soon as both are present and is otherwise a union,
 * so the merged total is the same bits in whatever order Spark merges the parts.
 *
 * <p>Serialized as the blocks' float32 values (4 bytes per weight element and block) plus the small per-micro-batch
 * records.
 */
final class StepPart implements Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * One micro-batch's outcome besides its gradient.
     *
     * @param index  its index within the step
     * @param loss   its loss
     * @param tokens its real tokens
     * @param router its router weights per dataset; null for adapters without a router
     */
    record Outcome(int index, double loss, long tokens, RouterStats.Counts router) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private final int count;
    private final List<String> names;
    private final List<long[]> shapes;
    private final List<Outcome> outcomes = new ArrayList<>();
    private final TreeSet<String> executors = new TreeSet<>();
    private long partitionBytes; // the float32 payload the partitions returned
    private transient PairwiseSums sums;

    private StepPart(int count, List<String> names, List<long[]> shapes) {
        this.count = count;
        this.names = names;
        this.shapes = shapes;
        this.sums = new PairwiseSums(shapeMap(), count, new ArrayDeque<>());
    }

    /** A part with nothing in it, for the n micro-batches of a step of {@code spec}'s run. */
    static StepPart empty(WorkerSpec spec, int count) {
        return new StepPart(count, spec.names(), spec.shapes());
    }

    private Map<String, long[]> shapeMap() {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            out.put(names.get(i), shapes.get(i));
        }
        return out;
    }

    /** Adds micro-batch {@code index}'s pass (its gradients are copied or added at once). */
    void add(int index, MicroBatchGradients.Result r) {
        sums.addMicroBatch(index, r.result().gradients());
        outcomes.add(new Outcome(index, r.result().loss(), r.result().tokens(), r.router()));
    }

    /** Ends a partition's work: records the executor it ran on and the size of what it returns. */
    void seal(String executorId) {
        executors.add(executorId);
        for (PairwiseSums.Block b : sums.pending()) {
            for (INDArray a : b.sums().values()) {
                partitionBytes += 4 * a.length();
            }
        }
    }

    /** Adds {@code other} into this part and returns this one (for {@code treeAggregate}). */
    StepPart merge(StepPart other) {
        other.sums.pending().forEach(sums::add);
        outcomes.addAll(other.outcomes);
        executors.addAll(other.executors);
        partitionBytes += other.partitionBytes;
        return this;
    }

    /**
     * Hands the complete step to the trainer's accumulator (the gradient total, then each micro-batch's loss and
     * tokens) and adds the router counts to {@code routerStats} in micro-batch order, as the single process does.
     *
     * @throws MorException if a micro-batch is missing
     */
    void drainInto(GradientAccumulator into, RouterStats routerStats) {
        if (!sums.complete() || outcomes.size() != count) {
            throw new MorException("the Spark job returned " + sums.added() + " of the step's " + count
                    + " micro-batch gradients and " + outcomes.size() + " losses");
        }
        sums.pending().forEach(into::addSum);
        outcomes.sort(Comparator.comparingInt(Outcome::index));
        for (Outcome o : outcomes) {
            into.addLoss(o.index(), o.loss(), o.tokens());
            if (o.router() != null) {
                routerStats.add(o.router());
            }
        }
    }

    /** The executors that computed micro-batches of this part. */
    TreeSet<String> executors() {
        return executors;
    }

    /** Bytes of float32 gradient sums the partitions returned. */
    long partitionBytes() {
        return partitionBytes;
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        List<PairwiseSums.Block> blocks = sums.pending();
        out.writeInt(blocks.size());
        for (PairwiseSums.Block b : blocks) {
            out.writeInt(b.level());
            out.writeInt(b.index());
            for (String name : names) {
                out.writeObject(b.sums().get(name).dup('c').data().asFloat());
            }
        }
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        sums = new PairwiseSums(shapeMap(), count, new ArrayDeque<>());
        int blocks = in.readInt();
        for (int i = 0; i < blocks; i++) {
            int level = in.readInt();
            int index = in.readInt();
            Map<String, INDArray> values = new LinkedHashMap<>();
            for (int w = 0; w < names.size(); w++) {
                float[] v = (float[]) in.readObject();
                values.put(names.get(w), Nd4j.create(v, shapes.get(w), 'c')); // the weight's shape
            }
            sums.add(new PairwiseSums.Block(level, index, values));
        }
    }
}
