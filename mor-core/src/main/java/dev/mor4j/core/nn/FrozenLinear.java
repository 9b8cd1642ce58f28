package dev.mor4j.core.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
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
 * <p>Adding a frozen layer also gives the graph, for the building thread, the execution session of
 * {@link SessionMemory}: without it SameDiff M2.1 hands {@code xw_plus_b} outputs back from its array cache
 * with a wrong order flag, and every elementwise op reading them runs on a slow strided path.
 */
public final class FrozenLinear {

    private final String name;
    private final INDArray weightT; // [d_in, d_out]

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
        if (weight.rank() != 2) {
            throw new IllegalArgumentException(name + ".weight: expected rank 2, got shape "
                    + java.util.Arrays.toString(weight.shape()));
        }
        if (!dataType.isFPType()) {
            throw new IllegalArgumentException(name + ".weight: expected a floating-point type, got " + dataType);
        }
        this.name = name;
        this.weightT = weight.castTo(dataType).transpose().dup('c');
    }

    public String name() {
        return name;
    }

    /** The type the weight is held and computed in (FLOAT unless given otherwise). */
    public DataType dataType() {
        return weightT.dataType();
    }

    public int inFeatures() {
        return (int) weightT.size(0);
    }

    public int outFeatures() {
        return (int) weightT.size(1);
    }

    /** The weight as Hugging Face stores it, {@code [d_out, d_in]} (a view, do not modify). */
    public INDArray weight() {
        return weightT.transpose();
    }

    /** The transposed weight {@code [d_in, d_out]} (do not modify). */
    public INDArray weightTransposed() {
        return weightT;
    }

    /** The weight as a graph constant {@code [d_in, d_out]}, created once per graph. */
    public SDVariable weightConstant(SameDiff sd) {
        String key = name + ".weight_t";
        return sd.hasVariable(key) ? sd.getVariable(key) : sd.constant(key, weightT);
    }

    /**
     * Adds {@code x Wᵀ} to the graph.
     *
     * @param x {@code [tokens, d_in]}
     * @return {@code [tokens, d_out]}
     */
    public SDVariable forward(SameDiff sd, SDVariable x) {
        return LeanProduct.of(sd, x, weightConstant(sd), weightT.size(1));
    }
}
