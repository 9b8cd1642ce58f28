package dev.mor4j.core.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

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
 * <p>Adding a frozen layer also gives the graph, for the building thread, the execution session of
 * {@link SessionMemory}: without it SameDiff M2.1 hands {@code xw_plus_b} outputs back from its array cache
 * with a wrong order flag, and every elementwise op reading them runs on a slow strided path.
 */
public final class FrozenLinear {

    private final String name;
    private final INDArray weightT; // [d_in, d_out] in the stored type
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
        return weightT.dataType();
    }

    public int inFeatures() {
        return (int) weightT.size(0);
    }

    public int outFeatures() {
        return (int) weightT.size(1);
    }

    /**
     * The weight as Hugging Face stores it, {@code [d_out, d_in]}, in the compute type: a view when it is held in
     * that type (do not modify), else a widened copy.
     */
    public INDArray weight() {
        return weightT.castTo(computeType).transpose();
    }

    /** The weight {@code [d_out, d_in]} in the type it is held in (a view, do not modify). */
    public INDArray storedWeight() {
        return weightT.transpose();
    }

    /** The transposed weight {@code [d_in, d_out]} in the type it is held in (do not modify). */
    public INDArray weightTransposed() {
        return weightT;
    }

    /**
     * The transposed weight {@code [d_in, d_out]} in the compute type as a graph variable, created once per graph:
     * the constant itself, or for a 16-bit weight its cast to the compute type.
     */
    public SDVariable weightConstant(SameDiff sd) {
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
        boolean fresh = !sd.hasVariable(name + ".weight_t");
        SDVariable w = weightConstant(sd); // [d_in, d_out]
        if (fresh && weightT.dataType() != computeType && x.getVariableType() == VariableType.ARRAY) {
            // SameDiff runs an op as soon as its inputs exist, and a constant's cast has nothing to wait for: all of a
            // model's weights would be widened at the start of every pass. Widen this one once its input exists.
            w.addControlDependency(x);
        }
        return LeanProduct.of(sd, x, w, weightT.size(1));
    }
}
