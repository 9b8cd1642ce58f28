package dev.mor4j.core.train;

import dev.mor4j.core.MorException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The sum over micro-batches {@code 0 … n-1} of one array per trainable weight, added pairwise along one fixed
 * binary tree of micro-batch indices, so that the float32 total is the same bits whatever order the micro-batches
 * (or sums of runs of them) arrive in and wherever they were added: in one process, or in k workers whose partial
 * sums are merged in any order.
 *
 * <p>Block {@code (ℓ, i)} covers micro-batches {@code [i·2^ℓ, (i+1)·2^ℓ) ∩ [0, n)}; the micro-batches themselves
 * are the blocks of level 0. A block's sum is
 * <pre>
 *   S(ℓ+1, i) = S(ℓ, 2i) + S(ℓ, 2i+1)     or S(ℓ, 2i) alone when block (ℓ, 2i+1) starts at or after n,
 * </pre>
 * and the total is the root {@code S(L, 0)}, {@code L = ⌈log₂ n⌉}. For {@code n ≤ 3} that is the left-to-right sum
 * {@code (g₀ + g₁) + g₂}; for {@code n = 4} it is {@code (g₀ + g₁) + (g₂ + g₃)}. Float addition is commutative, so each
 * block has one float32 value whichever child comes first; a block is added as soon as its sibling is present.
 *
 * <p>Added in order, at most {@code ⌈log₂ n⌉} blocks are pending at a time (one per set bit of the count so far),
 * each one set of weight-sized buffers. Buffers come from, and {@link #release()} returns them to, a caller's pool,
 * so a trainer allocates them once per run.
 */
public final class PairwiseSums {

    /**
     * The sum of one block of micro-batches.
     *
     * @param level the block's level ℓ: it covers up to {@code 2^ℓ} micro-batches
     * @param index its index i at that level: it starts at micro-batch {@code i·2^ℓ}
     * @param sums  the sum of each weight's arrays over the block, each shaped like the weight
     */
    public record Block(int level, int index, Map<String, INDArray> sums) {

        /** The first micro-batch the block covers. */
        public long first() {
            return (long) index << level;
        }
    }

    private final Map<String, long[]> shapes;
    private final int count;
    private final int levels;
    private final Deque<Map<String, INDArray>> spare;
    private final int spareLimit;
    private final TreeMap<Long, Map<String, INDArray>> pending = new TreeMap<>(); // (first micro-batch, level) → sums,
                                                                                   // each shaped like its weight
    private final BitSet covered = new BitSet();

    /**
     * @param shapes the shape of each weight's sum, by weight name (e.g. {@link #shapesOf} the trainable weights)
     * @param count  n, the micro-batches of the step (≥ 1)
     * @param spare  a pool of buffer sets (weight name → FLOAT array) to take from and return to; kept to
     *               {@code ⌈log₂ n⌉ + 1} sets
     */
    public PairwiseSums(Map<String, long[]> shapes, int count, Deque<Map<String, INDArray>> spare) {
        if (count < 1) {
            throw new IllegalArgumentException("a step has at least one micro-batch, got " + count);
        }
        this.shapes = shapes;
        this.count = count;
        this.levels = 32 - Integer.numberOfLeadingZeros(count - 1);
        this.spare = spare;
        this.spareLimit = levels + 1;
    }

    /** The shapes of {@code arrays}, by name, in their order. */
    public static Map<String, long[]> shapesOf(Map<String, INDArray> arrays) {
        Map<String, long[]> out = new LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, v.shape()));
        return out;
    }

    /** n, the micro-batches summed. */
    public int count() {
        return count;
    }

    /**
     * Adds micro-batch {@code index}'s arrays; they are only read (copied when they must be kept), so they may be
     * reused by their owner afterwards.
     *
     * @throws MorException if a weight is missing or mis-shaped, or the micro-batch was added before
     */
    public void addMicroBatch(int index, Map<String, INDArray> values) {
        insert(0, index, checked(values, "micro-batch " + index), false);
    }

    /**
     * Adds the sum of a block, e.g. computed by another process; its arrays become owned by this object.
     *
     * @throws MorException if the block lies outside {@code [0, n)}, overlaps one added before, or a weight is missing
     *                      or mis-shaped
     */
    public void add(Block block) {
        if (block.level() < 0 || block.level() > levels || block.index() < 0 || block.first() >= count) {
            throw new MorException("block (level " + block.level() + ", index " + block.index() + ") lies outside the "
                    + count + " micro-batches of the step");
        }
        insert(block.level(), block.index(), checked(block.sums(), "the block at micro-batch " + block.first()), true);
    }

    private void insert(int level, int index, Map<String, INDArray> values, boolean owned) {
        int first = index << level;
        int end = (int) Math.min(count, (long) (index + 1) << level);
        if (covered.get(first, end).cardinality() > 0) {
            throw new MorException("micro-batch " + (first + covered.get(first, end).nextSetBit(0))
                    + " of the step was added twice");
        }
        covered.set(first, end);
        while (level < levels) {
            int sibling = index ^ 1;
            if (((long) sibling << level) >= count) { // an empty sibling: this block is its parent's sum
                level++;
                index >>= 1;
                continue;
            }
            Map<String, INDArray> other = pending.remove(key(level, sibling)); // each shaped like its weight
            if (other == null) {
                break;
            }
            if (owned) {
                addInto(values, other);
                giveBack(other);
            } else {
                addInto(other, values);
                values = other;
                owned = true;
            }
            level++;
            index >>= 1;
        }
        pending.put(key(level, index), owned ? values : copy(values));
    }

    /** {@code into[k] += add[k]} for every weight k (a + b and b + a are the same float32 value). */
    private static void addInto(Map<String, INDArray> into, Map<String, INDArray> add) {
        for (Map.Entry<String, INDArray> e : into.entrySet()) {
            e.getValue().addi(add.get(e.getKey()));
        }
    }

    private static long key(int level, int index) {
        return ((long) index << level) << 6 | level; // ordered by first micro-batch; level < 32
    }

    /** True once every micro-batch has been added: the total is ready. */
    public boolean complete() {
        return covered.cardinality() == count;
    }

    /** Micro-batches added so far. */
    public int added() {
        return covered.cardinality();
    }

    /**
     * The blocks not yet added into larger ones, by first micro-batch: what a worker that summed a run of the
     * micro-batches hands on. They stay owned by this object until {@link #release()}.
     */
    public List<Block> pending() {
        List<Block> out = new ArrayList<>();
        pending.forEach((k, v) -> {
            int level = (int) (k & 63);
            out.add(new Block(level, (int) ((k >>> 6) >>> level), v));
        });
        return out;
    }

    /**
     * The sum over all n micro-batches, owned by this object (free to be modified) until {@link #release()}.
     *
     * @throws IllegalStateException if micro-batches are missing
     */
    public Map<String, INDArray> total() {
        if (!complete()) {
            throw new IllegalStateException("the sum has " + added() + " of its " + count + " micro-batches");
        }
        return pending.firstEntry().getValue();
    }

    /** Returns every held buffer set to the pool; this object is empty afterwards. */
    public void release() {
        pending.values().forEach(this::giveBack);
        pending.clear();
        covered.clear();
    }

    private void giveBack(Map<String, INDArray> buffers) {
        if (spare.size() < spareLimit) {
            spare.push(buffers);
        }
    }

    /** A FLOAT, row-major copy of {@code values} in a pooled buffer set. */
    private Map<String, INDArray> copy(Map<String, INDArray> values) {
        Map<String, INDArray> buffers = spare.poll();
        if (buffers == null) {
            buffers = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                buffers.put(e.getKey(), Nd4j.create(DataType.FLOAT, e.getValue(), 'c'));
            }
        }
        for (Map.Entry<String, INDArray> e : buffers.entrySet()) {
            e.getValue().assign(values.get(e.getKey()));
        }
        return buffers;
    }

    /** {@code values} restricted to the weights, in FLOAT, after checking names and shapes. */
    private Map<String, INDArray> checked(Map<String, INDArray> values, String what) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            INDArray g = values.get(e.getKey());
            if (g == null) {
                throw new MorException(what + " has no gradient for trainable '" + e.getKey() + "'");
            }
            if (!Arrays.equals(g.shape(), e.getValue())) {
                throw new MorException("gradient of '" + e.getKey() + "' has shape " + Arrays.toString(g.shape())
                        + "; expected the weight's shape " + Arrays.toString(e.getValue()));
            }
            out.put(e.getKey(), g.dataType() == DataType.FLOAT ? g : g.castTo(DataType.FLOAT));
        }
        return out;
    }
}
