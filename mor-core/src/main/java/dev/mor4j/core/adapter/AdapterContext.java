package dev.mor4j.core.adapter;

import dev.mor4j.core.MorException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What adapter layers share while they add themselves to one graph: the graph, the adapter weights
 * (keyed by their full PEFT names), whether the graph is for training, the dropout-mask placeholders, the
 * auxiliary losses and the router outputs.
 *
 * <p>Weights become trainable SameDiff variables ({@code sd.var}) named exactly by their PEFT key, e.g.
 * {@code base_model.model.model.layers.0.mlp.up_proj.lora_A.weight}; the arrays are the ones in the map,
 * so training updates them in place.
 *
 * <p>Dropout (which has no derivative in SameDiff M2.1) is a multiplication by a mask placeholder named
 * {@code <prefix>.dropout_mask}, {@code [tokens, d_in]}, that the trainer fills from its own seeded
 * random generator (values 0 or 1/(1-p)). Graphs built for inference have no masks.
 */
public final class AdapterContext {

    private final SameDiff sd;
    private final Map<String, INDArray> weights;
    private final boolean training;
    private final Map<String, Integer> dropoutMasks = new LinkedHashMap<>(); // placeholder name -> d_in
    private final Map<String, Double> dropoutRates = new LinkedHashMap<>(); // placeholder name -> p
    private final List<SDVariable> auxLosses = new ArrayList<>();
    private final Map<String, String> routerOutputs = new LinkedHashMap<>(); // prefix -> gate variable
    private final Map<String, String> taskSimilarities = new LinkedHashMap<>(); // prefix -> [E, tasks] variable
    private SDVariable tokenMask; // [tokens, 1] FLOAT, 1 for real tokens, 0 for padding; may be null
    private TaskInputs taskInputs;
    private int adaptedModules = 1;

    /**
     * @param weights  adapter weights keyed by full PEFT name; every key an adapter asks for must be present
     * @param training true to build dropout masks and auxiliary losses
     */
    public AdapterContext(SameDiff sd, Map<String, INDArray> weights, boolean training) {
        this.sd = sd;
        this.weights = weights;
        this.training = training;
    }

    public SameDiff sd() {
        return sd;
    }

    public boolean training() {
        return training;
    }

    /** The trainable variable for a weight, created on first use. */
    public SDVariable weight(String key) {
        if (sd.hasVariable(key)) {
            return sd.getVariable(key);
        }
        INDArray arr = weights.get(key);
        if (arr == null) {
            throw new MorException("adapter weight '" + key + "' is missing");
        }
        return sd.var(key, arr);
    }

    /**
     * As {@link #weight(String)}, first checking that the weight has the shape the adapter expects.
     *
     * @throws MorException naming the key, the expected and the actual shape
     */
    public SDVariable weight(String key, long... expectedShape) {
        long[] actual;
        if (sd.hasVariable(key)) {
            actual = sd.getVariable(key).getShape();
        } else {
            INDArray arr = weights.get(key);
            if (arr == null) {
                throw new MorException("adapter weight '" + key + "' is missing: expected shape "
                        + Arrays.toString(expectedShape));
            }
            actual = arr.shape();
        }
        if (!Arrays.equals(actual, expectedShape)) {
            throw new MorException("adapter weight '" + key + "': expected shape " + Arrays.toString(expectedShape)
                    + ", got " + Arrays.toString(actual));
        }
        return weight(key);
    }

    /**
     * Applies adapter dropout to {@code x} when training with {@code p > 0}; otherwise returns {@code x}.
     * The mask placeholder has the data type of {@code x}.
     *
     * @param x {@code [tokens, d_in]}
     */
    public SDVariable dropout(String prefix, SDVariable x, int dIn, double p) {
        if (!training || p <= 0) {
            return x;
        }
        String name = prefix + ".dropout_mask";
        SDVariable mask = sd.hasVariable(name) ? sd.getVariable(name) : sd.placeHolder(name, x.dataType(), -1, dIn);
        dropoutMasks.put(name, dIn);
        dropoutRates.put(name, p);
        return x.mul(mask);
    }

    /** Dropout mask placeholders of this graph: name to {@code d_in}. */
    public Map<String, Integer> dropoutMasks() {
        return Collections.unmodifiableMap(dropoutMasks);
    }

    /** Dropout probability of each mask placeholder. */
    public Map<String, Double> dropoutRates() {
        return Collections.unmodifiableMap(dropoutRates);
    }

    /** Adds a term (a scalar) to be added to the training loss, e.g. a load-balancing loss. */
    public void addAuxLoss(SDVariable scalar) {
        auxLosses.add(scalar);
    }

    public List<SDVariable> auxLosses() {
        return Collections.unmodifiableList(auxLosses);
    }

    /** Records the variable holding a layer's router weights {@code [tokens, N]}. */
    public void recordRouterWeights(String prefix, SDVariable gates) {
        routerOutputs.put(prefix, gates.name());
    }

    /** Router weight variables by module prefix, each {@code [tokens, N]}. */
    public Map<String, String> routerOutputs() {
        return Collections.unmodifiableMap(routerOutputs);
    }

    /**
     * The per-example inputs ({@link TaskInputs}), created with their placeholders on first use.
     *
     * @throws MorException when adapters of one graph disagree on the number of tasks
     */
    public TaskInputs taskInputs(int tasks, DataType dataType) {
        if (taskInputs == null) {
            taskInputs = new TaskInputs(sd, tasks, dataType, tokenMask);
        } else if (taskInputs.tasks() != tasks) {
            throw new MorException("adapters of one model disagree on the number of tasks: " + taskInputs.tasks()
                    + " and " + tasks);
        }
        return taskInputs;
    }

    /** True when some adapter of this graph reads {@link TaskInputs}, so that its feeds need task ids. */
    public boolean needsTasks() {
        return taskInputs != null;
    }

    /** The number of tasks the graph's {@link TaskInputs} span; 0 when it has none. */
    public int taskCount() {
        return taskInputs == null ? 0 : taskInputs.tasks();
    }

    /**
     * Sets how many adapted modules the whole model has (a graph of a few layers holds only some of them), for
     * losses that are averages over modules.
     */
    public void setAdaptedModules(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("adapted module count must be ≥ 1, got " + count);
        }
        this.adaptedModules = count;
    }

    /** How many adapted modules the whole model has (1 unless {@link #setAdaptedModules} said otherwise). */
    public int adaptedModules() {
        return adaptedModules;
    }

    /** Records a per-example task-similarity variable {@code [E, tasks]} of one module. */
    public void recordTaskSimilarity(String prefix, SDVariable similarity) {
        taskSimilarities.put(prefix, similarity.name());
    }

    /** Task-similarity variables by module prefix, each {@code [E, tasks]}. */
    public Map<String, String> taskSimilarities() {
        return Collections.unmodifiableMap(taskSimilarities);
    }

    /** Sets the {@code [tokens, 1]} FLOAT mask of real (non-padding) tokens, used by auxiliary losses. */
    public void setTokenMask(SDVariable tokenMask) {
        this.tokenMask = tokenMask;
    }

    /** {@code [tokens, 1]} FLOAT, 1 for real tokens; null if the graph has none. */
    public SDVariable tokenMask() {
        return tokenMask;
    }
}
