package dev.mor4j.bench;

import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.adapter.MixtureOfRankExperts;
import dev.mor4j.core.adapter.TaskInputs;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.core.nn.GradFunctions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The random ingredients of one benchmarked projection and the graph's common ending, shared by
 * {@link ProjectionGraph} and {@link StraightforwardGraph} so that both see the same weights and input for
 * the same seed.
 */
final class RandomProjection {

    static final String INPUT = "x";
    static final String OUTPUT = "y";
    static final String LOSS = "loss";
    static final String PREFIX = "base_model.model.model.layers.0.mlp.proj";

    final FrozenLinear base;
    final AdapterLayer layer; // null for Variant.BASE
    final Map<String, INDArray> weights; // adapter weights by PEFT key; empty without an adapter
    final Map<String, INDArray> feeds; // x [T, d_in]

    /**
     * Draws, in this order: the frozen weight, the adapter weights ({@link #randomWeights}), the input.
     *
     * @param tokens T, the number of rows of {@code x}
     */
    RandomProjection(Variant variant, int dIn, int dOut, int tokens, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray w = Nd4j.randn(DataType.FLOAT, dOut, dIn).muli(1 / Math.sqrt(dIn)); // [d_out, d_in]
        this.base = new FrozenLinear("model.layers.0.mlp.proj", w);
        this.layer = variant.layer(PREFIX, base);
        this.weights = layer == null ? Map.of() : randomWeights(layer, new Random(seed));
        Map<String, INDArray> f = new LinkedHashMap<>();
        f.put(INPUT, Nd4j.randn(DataType.FLOAT, tokens, dIn)); // [T, d_in]
        if (layer instanceof MixtureOfRankExperts) {
            // two examples of T/2 positions, of the two tasks
            INDArray tokenExample = Nd4j.zeros(DataType.FLOAT, tokens, 2); // [T, E]
            for (int t = 0; t < tokens; t++) {
                tokenExample.putScalar(t, t < tokens / 2 ? 0 : 1, 1.0);
            }
            f.put(TaskInputs.TASK_IDS, Nd4j.createFromArray(0, 1)); // [E]
            f.put(TaskInputs.TOKEN_EXAMPLE, tokenExample);
        }
        this.feeds = f;
    }

    /**
     * PEFT's initial weights with every zero-initialised matrix (LoRA's B) replaced by small random values,
     * so no product is trivially zero.
     */
    static Map<String, INDArray> randomWeights(AdapterLayer layer, Random rng) {
        Map<String, INDArray> w = new LinkedHashMap<>(layer.initialWeights(rng));
        w.replaceAll((k, v) -> v.sumNumber().doubleValue() == 0
                ? Nd4j.randn(v.dataType(), v.shape()).muli(0.01) : v);
        return w;
    }

    /**
     * Names {@code y [T, d_out]} {@link #OUTPUT}, adds the loss {@code sum(y)} (plus the adapter's auxiliary losses,
     * such as MoRE's task alignment, when it has some) and the gradient function with
     * {@code x} named as needing a gradient (without that SameDiff prunes the placeholder from the backward
     * graph, so dX would lack the frozen weight's term and the base variant would have no gradient function).
     *
     * @return the names whose gradients are wanted: the adapter weights, then {@code x}
     */
    List<String> finish(SameDiff sd, SDVariable y, List<SDVariable> auxLosses) {
        SDVariable out = sd.identity(OUTPUT, y); // [T, d_out]
        SDVariable loss = out.sum();
        for (SDVariable aux : auxLosses) {
            loss = loss.add(aux);
        }
        sd.identity(LOSS, loss);
        sd.setLossVariables(LOSS);
        List<String> gradientNames = new ArrayList<>(weights.keySet());
        gradientNames.add(INPUT);
        GradFunctions.create(sd, INPUT);
        return gradientNames;
    }
}
