package dev.mor4j.core.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * A SameDiff listener that records every op a pass executes, in order: to see which ops a forward or backward
 * pass really runs (for example, that no gradient is computed for a frozen weight). Attach it with
 * {@code sd.setListeners(trace)}; the gradient function inherits the graph's listeners.
 */
public final class OpTrace extends BaseListener {

    /**
     * One op execution.
     *
     * @param type         the op's name in ND4J, e.g. {@code matmul_bp}
     * @param name         the op's name in the graph, e.g. {@code matmul_bp_3}
     * @param inputs       the names of the variables it read
     * @param outputs      the names of the variables it produced
     * @param outputShapes the shapes of its outputs
     * @param inputShapes  the shapes of its inputs
     */
    public record Execution(String type, String name, List<String> inputs, List<String> outputs,
            List<String> outputShapes, List<String> inputShapes) {

        /** Whether one of the outputs has this shape. */
        public boolean outputs(long... shape) {
            return outputShapes.contains(Arrays.toString(shape));
        }

        @Override
        public String toString() {
            return name + " " + String.join("", outputShapes) + " <- " + String.join("", inputShapes);
        }
    }

    private final List<Execution> executions = new ArrayList<>();

    @Override
    public boolean isActive(Operation operation) {
        return true;
    }

    @Override
    public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx,
            INDArray[] outputs) {
        List<String> inputs = op.getInputsToOp() == null ? List.of() : List.copyOf(op.getInputsToOp());
        executions.add(new Execution(op.getOp().opName(), op.getName(), inputs, List.copyOf(op.getOutputsOfOp()),
                shapes(outputs), shapes(ctx == null ? null : ctx.getInputArrays().toArray(new INDArray[0]))));
    }

    private static List<String> shapes(INDArray[] arrays) {
        if (arrays == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (INDArray a : arrays) {
            out.add(a == null ? "null" : Arrays.toString(a.shape()));
        }
        return out;
    }

    /** The executions recorded so far, in order. */
    public List<Execution> executions() {
        return Collections.unmodifiableList(executions);
    }

    /** How many times an op of this ND4J type ran. */
    public long count(String type) {
        return executions.stream().filter(e -> e.type().equals(type)).count();
    }

    /** The graph names of the ops that produced an array of {@code shape}. */
    public Set<String> producing(long... shape) {
        Set<String> names = new LinkedHashSet<>();
        for (Execution e : executions) {
            if (e.outputs(shape)) {
                names.add(e.name());
            }
        }
        return names;
    }

    /** The names of every variable the executed ops produced. */
    public Set<String> producedVariables() {
        Set<String> names = new LinkedHashSet<>();
        executions.forEach(e -> names.addAll(e.outputs()));
        return names;
    }

    /** Forgets everything recorded so far. */
    public void clear() {
        executions.clear();
    }

    @Override
    public String toString() {
        return executions.toString();
    }
}
