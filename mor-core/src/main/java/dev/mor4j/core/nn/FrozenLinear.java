package dev.mor4j.core.nn;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A frozen linear layer {@code y = x Wᵀ} (no bias), as a LLaMA projection holds it.
 *
 * <p>The weight is kept transposed, {@code [d_in, d_out]}, and enters the graph as a constant through a
 * {@link LeanProduct}, so SameDiff never executes the product that would give {@code dW}: backward through a
 * frozen layer costs one GEMM ({@code dX = dY W}) instead of the two that {@code mmul}'s fused backward
 * always computes.
 *
 * <p>A layer made with {@link #resident} keeps a 16-bit (BF16 or F16) weight in 16 bits: the graph widens it to
 * the compute type with a cast just before its product, and that float copy is an ordinary intermediate array,
 * released as soon as the ops reading it have run (after the product in a forward pass, after {@code dX} in a
 * backward pass). A 7B model then stays at 2 bytes per frozen parameter in memory.
 *
 * <p>A large 16-bit layer can be held in <em>output blocks</em> ({@link #resident(String, INDArray, DataType, long)}):
 * {@code W} {@code [d_out, d_in]} as {@code k} separate arrays of consecutive rows, {@code W_i} {@code [d_out_i, d_in]}
 * (held transposed). Each block is its own constant and is widened just before its own product, after the previous
 * block's product has run, so at most one block is widened at a time: {@code y = [x W_1ᵀ | … | x W_kᵀ]} (concatenated
 * along the output features) and {@link #backProduct} {@code e W = Σ_i e[:, block_i] W_i}. A LLaMA-3 LM head
 * ({@code [128256, 4096]}) is 2.1 GB widened whole, 0.27 GB per block in 8 blocks.
 *
 * <p>Adding a frozen layer also gives the graph, for the building thread, the execution session of
 * {@link SessionMemory}: without it SameDiff M2.1 hands {@code xw_plus_b} outputs back from its array cache
 * with a wrong order flag, and every elementwise op reading them runs on a slow strided path.
 */
public final class FrozenLinear {

    private final String name;
    private final INDArray weightT; // [d_in, d_out] in the stored type; null when held in blocks
    private final INDArray[] blocksT; // k × [d_in, d_out_i] in the stored type; null when held whole
    private final DataType computeType;

    /**
     * @param name    the module's name in the model, e.g. {@code model.layers.0.mlp.up_proj}
     * @param weight  the weight as Hugging Face stores it, {@code [d_out, d_in]}; copied and held in FLOAT
     */
    public FrozenLinear(String name, INDArray weight) {
        this(name, weight, DataType.FLOAT);
    }

    /**
     * As {@link #FrozenLinear(String, INDArray)}, holding the weight in {@code dataType} (e.g. DOUBLE for
     * precise numerical checks); the layer then expects inputs of that type.
     *
     * @param weight   {@code [d_out, d_in]}; copied
     * @param dataType a floating-point type
     */
    public FrozenLinear(String name, INDArray weight, DataType dataType) {
        this(name, weight, dataType, dataType);
    }

    private FrozenLinear(String name, INDArray weight, DataType storedType, DataType computeType) {
        if (weight.rank() != 2) {
            throw new IllegalArgumentException(name + ".weight: expected rank 2, got shape "
                    + java.util.Arrays.toString(weight.shape()));
        }
        if (!storedType.isFPType() || !computeType.isFPType()) {
            throw new IllegalArgumentException(name + ".weight: expected a floating-point type, got " + storedType);
        }
        this.name = name;
        this.weightT = weight.castTo(storedType).transpose().dup('c');
        this.blocksT = null;
        this.computeType = computeType;
    }

    private FrozenLinear(String name, INDArray[] blocksT, DataType computeType) {
        this.name = name;
        this.weightT = null;
        this.blocksT = blocksT;
        this.computeType = computeType;
    }

    /**
     * A layer that keeps a 16-bit weight (BFLOAT16, HALF) in its own type and computes in {@code computeType};
     * a weight of another type is held in {@code computeType}, as {@link #FrozenLinear(String, INDArray, DataType)}.
     *
     * @param weight      {@code [d_out, d_in]}; copied (transposed)
     * @param computeType the type of the layer's inputs and outputs (FLOAT)
     */
    public static FrozenLinear resident(String name, INDArray weight, DataType computeType) {
        DataType stored = isSixteenBit(weight.dataType()) ? weight.dataType() : computeType;
        return new FrozenLinear(name, weight, stored, computeType);
    }

    /**
     * As {@link #resident(String, INDArray, DataType)}, holding a 16-bit weight of more than
     * {@code maxBlockParameters} parameters in output blocks of at most that many (whole rows of {@code W}; the
     * blocks' sizes differ by at most one row), so that only one block at a time is widened. A weight held in the
     * compute type is held whole: it is never widened.
     *
     * @param weight             {@code [d_out, d_in]}; copied (transposed, block by block)
     * @param maxBlockParameters the most parameters a block may hold, at least {@code d_in}
     */
    public static FrozenLinear resident(String name, INDArray weight, DataType computeType, long maxBlockParameters) {
        if (weight.rank() != 2 || !isSixteenBit(weight.dataType()) || weight.length() <= maxBlockParameters) {
            return resident(name, weight, computeType);
        }
        long rows = weight.size(0); // d_out
        long inFeatures = weight.size(1);
        if (maxBlockParameters < inFeatures) {
            throw new IllegalArgumentException(name + ": a block of at most " + maxBlockParameters
                    + " parameters cannot hold one row of " + inFeatures);
        }
        int k = (int) Math.ceil(rows / (double) (maxBlockParameters / inFeatures));
        INDArray[] blocks = new INDArray[k];
        for (int i = 0; i < k; i++) {
            long from = rows * i / k;
            long to = rows * (i + 1) / k;
            INDArray rowsOfW = weight.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()); // [d_out_i, d_in]
            blocks[i] = rowsOfW.transpose().dup('c'); // [d_in, d_out_i]
        }
        return new FrozenLinear(name, blocks, computeType);
    }

    /** BFLOAT16 or HALF: the types {@link #resident} keeps as they are. */
    public static boolean isSixteenBit(DataType t) {
        return t == DataType.BFLOAT16 || t == DataType.HALF;
    }

    public String name() {
        return name;
    }

    /** The type the layer computes in and expects its inputs in (FLOAT unless given otherwise). */
    public DataType dataType() {
        return computeType;
    }

    /** The type the weight is held in: the compute type, or BFLOAT16/HALF for a {@link #resident} 16-bit one. */
    public DataType storedType() {
        return blocksT == null ? weightT.dataType() : blocksT[0].dataType();
    }

    public int inFeatures() {
        return (int) (blocksT == null ? weightT : blocksT[0]).size(0);
    }

    public int outFeatures() {
        if (blocksT == null) {
            return (int) weightT.size(1);
        }
        long n = 0;
        for (INDArray b : blocksT) {
            n += b.size(1);
        }
        return (int) n;
    }

    /** The number of output blocks the weight is held in (1 when held whole). */
    public int blocks() {
        return blocksT == null ? 1 : blocksT.length;
    }

    /** {@code d_in · d_out}. */
    public long parameters() {
        return (long) inFeatures() * outFeatures();
    }

    /**
     * Block {@code i}'s transposed weight {@code [d_in, d_out_i]} in the type it is held in (the whole transposed
     * weight, {@code i = 0}, when held whole), for eager products: the held array itself, not to be modified or
     * closed. Block {@code i} holds output rows {@code Σ_{j<i} d_out_j} up to {@code Σ_{j≤i} d_out_j} of {@code W}.
     */
    public INDArray storedBlockTransposed(int i) {
        if (blocksT != null) {
            return blocksT[i];
        }
        if (i != 0) {
            throw new IndexOutOfBoundsException(name + " is held whole: block " + i + " of 1");
        }
        return weightT;
    }

    /** The parameters of the largest block: what is widened at once ({@link #parameters()} when held whole). */
    public long largestBlockParameters() {
        if (blocksT == null) {
            return weightT.length();
        }
        long most = 0;
        for (INDArray b : blocksT) {
            most = Math.max(most, b.length());
        }
        return most;
    }

    /** The bytes the weight is held in. */
    public long storedBytes() {
        return parameters() * storedType().width();
    }

    /**
     * The weight as Hugging Face stores it, {@code [d_out, d_in]}, in the compute type: a view when it is held whole
     * in that type (do not modify), else a widened copy.
     */
    public INDArray weight() {
        return weightTransposed().castTo(computeType).transpose();
    }

    /**
     * The weight {@code [d_out, d_in]} in the type it is held in: a view when held whole (do not modify), a copy
     * of the blocks joined when held in blocks.
     */
    public INDArray storedWeight() {
        return weightTransposed().transpose();
    }

    /**
     * The transposed weight {@code [d_in, d_out]} in the type it is held in: the array itself when held whole (do
     * not modify), a copy of the blocks joined when held in blocks.
     */
    public INDArray weightTransposed() {
        return blocksT == null ? weightT : Nd4j.concat(1, blocksT);
    }

    /** Releases the weight's memory; the layer cannot be used after. */
    public void close() {
        if (blocksT == null) {
            weightT.close();
        } else {
            for (INDArray b : blocksT) {
                b.close();
            }
        }
    }

    /**
     * The transposed weight {@code [d_in, d_out]} in the compute type as a graph variable, created once per graph:
     * the constant itself, or for a 16-bit weight its cast to the compute type.
     */
    public SDVariable weightConstant(SameDiff sd) {
        if (blocksT != null) {
            throw new IllegalStateException(name + " is held in " + blocksT.length + " output blocks: it enters a graph"
                    + " through forward and backProduct only");
        }
        String key = name + ".weight_t";
        SDVariable stored = sd.hasVariable(key) ? sd.getVariable(key) : sd.constant(key, weightT);
        if (weightT.dataType() == computeType) {
            return stored;
        }
        String wide = key + "." + computeType.name().toLowerCase(java.util.Locale.ROOT);
        return sd.hasVariable(wide) ? sd.getVariable(wide) : stored.castTo(wide, computeType);
    }

    /**
     * Adds {@code x Wᵀ} to the graph.
     *
     * @param x {@code [tokens, d_in]}
     * @return {@code [tokens, d_out]}
     */
    public SDVariable forward(SameDiff sd, SDVariable x) {
        if (blocksT != null) {
            SDVariable[] parts = new SDVariable[blocksT.length];
            SDVariable after = x.getVariableType() == VariableType.ARRAY ? x : null;
            for (int i = 0; i < blocksT.length; i++) {
                SDVariable w = widenedBlock(sd, i, after); // [d_in, d_out_i]
                parts[i] = LeanProduct.of(sd, x, w, blocksT[i].size(1)); // [tokens, d_out_i]
                after = parts[i];
            }
            return sd.concat(1, parts); // [tokens, d_out]
        }
        boolean fresh = !sd.hasVariable(name + ".weight_t");
        SDVariable w = weightConstant(sd); // [d_in, d_out]
        if (fresh && weightT.dataType() != computeType && x.getVariableType() == VariableType.ARRAY) {
            // SameDiff runs an op as soon as its inputs exist, and a constant's cast has nothing to wait for: all of a
            // model's weights would be widened at the start of every pass. Widen this one once its input exists.
            w.addControlDependency(x);
        }
        return LeanProduct.of(sd, x, w, weightT.size(1));
    }

    /**
     * Adds {@code e W}, the product with the weight as Hugging Face stores it: what a gradient with respect to the
     * layer's input is made of. A weight held in blocks is widened afresh for it, one block at a time, each after
     * the previous block's product: {@code Σ_i e[:, block_i] W_i}.
     *
     * @param e {@code [tokens, d_out]}
     * @return {@code [tokens, d_in]}
     */
    public SDVariable backProduct(SameDiff sd, SDVariable e) {
        if (blocksT == null) {
            return sd.mmul(e, weightConstant(sd), false, true, false);
        }
        SDVariable sum = null;
        SDVariable after = e;
        long from = 0;
        for (int i = 0; i < blocksT.length; i++) {
            long to = from + blocksT[i].size(1);
            SDVariable w = widenedBlock(sd, i, after); // [d_in, d_out_i]
            SDVariable part = e.get(SDIndex.all(), SDIndex.interval(from, to)); // [tokens, d_out_i]
            SDVariable product = sd.mmul(part, w, false, true, false); // [tokens, d_in]
            sum = sum == null ? product : sum.add(product);
            after = product;
            from = to;
        }
        return sum;
    }

    /**
     * A new cast of block {@code i}'s constant to the compute type, run only once {@code after} exists (null: no
     * wait). Every call widens afresh, so a widened block lives only as long as the one product reading it.
     */
    private SDVariable widenedBlock(SameDiff sd, int i, SDVariable after) {
        String key = name + ".weight_t.block" + i;
        SDVariable stored = sd.hasVariable(key) ? sd.getVariable(key) : sd.constant(key, blocksT[i]); // [d_in, d_out_i]
        SDVariable wide = stored.castTo(computeType); // [d_in, d_out_i]
        if (after != null) {
            wide.addControlDependency(after);
        }
        return wide;
    }
}
