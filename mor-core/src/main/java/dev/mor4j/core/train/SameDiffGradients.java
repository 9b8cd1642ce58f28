package dev.mor4j.core.train;

import dev.mor4j.core.MorException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A {@link GradientSource} over a SameDiff graph with a scalar loss: one pass of the gradient function
 * ({@link GradientFunction}, SameDiff's {@code calculateGradientsAndOutputs} with the array cache on) gives the
 * loss and the gradients of the trainable variables.
 *
 * <p>The trainable variables must be SameDiff {@code VARIABLE}s (made with {@code sd.var}); frozen weights
 * should be constants. The arrays of {@link #trainableArrays()} are the ones the graph reads, so an optimizer
 * that updates them in place is seen by the next pass. Change them only in place ({@code assign}, {@code addi}):
 * the gradient function keeps the array objects it was built with, so a variable given a new array with
 * {@code setArray} would no longer be the one differentiated.
 */
public final class SameDiffGradients implements GradientSource {

    /**
     * The placeholder values of one micro-batch and its token count.
     *
     * @param placeholders placeholder name to value, e.g. token ids and dropout masks
     * @param tokens       tokens in the micro-batch (reported in the metrics)
     */
    public record Batch(Map<String, INDArray> placeholders, long tokens) {
    }

    /** Supplies the placeholders of micro-batch {@code microBatch} of 0-based optimizer step {@code step}. */
    @FunctionalInterface
    public interface BatchSupplier {
        Batch batch(long step, int microBatch);
    }

    /**
     * Receives the values of extra graph variables computed in a micro-batch's pass (e.g. router weights for
     * statistics). The arrays are valid only during the call: copy or reduce them there.
     */
    @FunctionalInterface
    public interface OutputListener {
        void outputs(long step, int microBatch, Map<String, INDArray> values);
    }

    private final SameDiff sd;
    private final String loss;
    private final List<String> trainables;
    private final BatchSupplier batches;
    private List<String> extraOutputs = List.of();
    private OutputListener outputListener;

    /**
     * @param sd         the graph
     * @param loss       name of the scalar loss variable; made the graph's loss variable
     * @param trainables names of the trainable variables
     * @param batches    the micro-batches
     * @throws MorException if the loss or a trainable is missing, or a trainable is not a variable
     */
    public SameDiffGradients(SameDiff sd, String loss, List<String> trainables, BatchSupplier batches) {
        if (!sd.hasVariable(loss)) {
            throw new MorException("loss variable '" + loss + "' is not in the graph");
        }
        if (trainables.isEmpty()) {
            throw new MorException("no trainable variables given; expected the names of the sd.var weights");
        }
        for (String name : trainables) {
            if (!sd.hasVariable(name)) {
                throw new MorException("trainable '" + name + "' is not in the graph");
            }
            VariableType type = sd.getVariable(name).getVariableType();
            if (type != VariableType.VARIABLE) {
                throw new MorException("trainable '" + name + "' is a " + type
                        + "; expected a VARIABLE (created with sd.var) so that it has a gradient");
            }
        }
        if (!sd.getLossVariables().equals(List.of(loss))) {
            sd.setLossVariables(loss);
        }
        this.sd = sd;
        this.loss = loss;
        this.trainables = List.copyOf(trainables);
        this.batches = batches;
    }

    /**
     * Also computes {@code names} in every micro-batch's forward pass (at no extra cost: the pass computes them
     * anyway) and hands their values to {@code listener} after the pass.
     *
     * @throws MorException if a name is not a variable of the graph
     */
    public SameDiffGradients withOutputs(List<String> names, OutputListener listener) {
        for (String name : names) {
            if (!sd.hasVariable(name)) {
                throw new MorException("extra output '" + name + "' is not in the graph");
            }
        }
        this.extraOutputs = List.copyOf(names);
        this.outputListener = listener;
        return this;
    }

    /** The arrays of the trainable variables, in the order given: the ones the graph reads. */
    public Map<String, INDArray> trainableArrays() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String name : trainables) {
            SDVariable v = sd.getVariable(name);
            out.put(name, v.getArr());
        }
        return Collections.unmodifiableMap(out);
    }

    @Override
    public StepResult compute(long step, int microBatch) {
        Batch b = batches.batch(step, microBatch);
        List<String> outputs = new ArrayList<>();
        outputs.add(loss);
        outputs.addAll(extraOutputs);
        OutAndGrad r = GradientFunction.run(sd, b.placeholders(), outputs, trainables);
        INDArray l = r.getOutputs().get(loss);
        if (l == null || l.length() != 1) {
            throw new MorException("loss variable '" + loss + "' gave " + (l == null ? "no value"
                    : "shape " + java.util.Arrays.toString(l.shape())) + "; expected a scalar");
        }
        Map<String, INDArray> grads = r.getGradients();
        for (String name : trainables) {
            if (grads.get(name) == null) {
                throw new MorException("trainable '" + name + "' has no gradient: the loss '" + loss
                        + "' does not depend on it");
            }
        }
        if (outputListener != null && !extraOutputs.isEmpty()) {
            Map<String, INDArray> values = new LinkedHashMap<>();
            for (String name : extraOutputs) {
                values.put(name, r.getOutputs().get(name));
            }
            outputListener.outputs(step, microBatch, Collections.unmodifiableMap(values));
        }
        return new StepResult(l.getDouble(0), b.tokens(), grads);
    }
}
