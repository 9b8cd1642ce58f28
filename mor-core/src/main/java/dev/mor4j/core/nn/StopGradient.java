package dev.mor4j.core.nn;

import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.DynamicCustomOp;

/**
 * A bit-exact copy of a value that no gradient flows through, like PyTorch's {@code detach()}.
 *
 * <p>The copy is the value's bits reinterpreted as integers and back ({@code bitcast}). SameDiff computes
 * gradients only for floating-point variables and differentiates an op only when one of its outputs has a
 * gradient, so no op that leads to the integer copy is differentiated. ND4J's own {@code stop_gradient} does
 * not do this: its gradient is an array of zeros, which SameDiff then propagates through every op before it.
 */
public final class StopGradient {

    private StopGradient() {
    }

    /**
     * Adds a copy of {@code x} without a gradient path to the graph.
     *
     * @param x a FLOAT or DOUBLE variable of any shape (the types the library computes in)
     * @return the same shape, type and values as {@code x}
     */
    public static SDVariable of(SameDiff sd, SDVariable x) {
        DataType type = x.dataType();
        DataType bits = switch (type) {
            case FLOAT -> DataType.INT;
            case DOUBLE -> DataType.LONG;
            default -> throw new IllegalArgumentException(x.name() + ": expected a FLOAT or DOUBLE variable, got " + type);
        };
        SDVariable asBits = new Reinterpret(sd, x, bits).outputVariable();
        return new Reinterpret(sd, asBits, type).outputVariable();
    }

    /** The {@code bitcast} op with its target type fixed when the graph is built. */
    private static final class Reinterpret extends DynamicCustomOp {

        private final DataType to;

        Reinterpret(SameDiff sd, SDVariable in, DataType to) {
            super(null, sd, new SDVariable[] {in});
            this.to = to;
            addIArgument(to.toInt());
        }

        @Override
        public String opName() {
            return "bitcast";
        }

        @Override
        public List<DataType> calculateOutputDataTypes(List<DataType> inputTypes) {
            return List.of(to);
        }
    }
}
