package dev.mor4j.bench;

import dev.mor4j.core.adapter.AdapterContext;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.core.train.GradientFunction;
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
 * One adapted projection as a SameDiff graph, with random weights: a FLOAT placeholder {@code x [T, d_in]},
 * the output {@code y [T, d_out]} and the loss {@code sum(y)} (so the incoming gradient is all ones).
 *
 * <p>{@link #forward()} computes {@code y}; {@link #forwardBackward()} computes the gradients of every adapter
 * weight and of {@code x}. The gradient function is created with {@code x} named as needing a gradient:
 * without that SameDiff prunes the placeholder from the backward graph and differentiates only the adapter
 * path, so {@code dX} would lack the frozen weight's term {@code dY·W} (and the base variant, having no
 * trainable weight, would have no gradient function at all).
 */
public final class ProjectionGraph {

    public static final String INPUT = "x";
    public static final String OUTPUT = "y";
    public static final String LOSS = "loss";

    private final Variant variant;
    private final SameDiff sd;
    private final Map<String, INDArray> feeds;
    private final List<String> gradientNames;

    /**
     * @param tokens T, the number of rows of {@code x}
     * @param seed   seeds the frozen weight, the adapter weights and the input
     */
    public ProjectionGraph(Variant variant, int dIn, int dOut, int tokens, long seed) {
        this.variant = variant;
        Nd4j.getRandom().setSeed(seed);
        INDArray w = Nd4j.randn(DataType.FLOAT, dOut, dIn).muli(1 / Math.sqrt(dIn)); // [d_out, d_in]
        FrozenLinear base = new FrozenLinear("model.layers.0.mlp.proj", w);
        AdapterLayer layer = variant.layer("base_model.model.model.layers.0.mlp.proj", base);
        Map<String, INDArray> weights = layer == null ? Map.of() : randomWeights(layer, new Random(seed));

        this.sd = SameDiff.create();
        SDVariable x = sd.placeHolder(INPUT, DataType.FLOAT, -1, dIn); // [T, d_in]
        AdapterContext ctx = new AdapterContext(sd, weights, true);
        SDVariable y = layer == null ? base.forward(sd, x) : layer.forward(ctx, x); // [T, d_out]
        y = sd.identity(OUTPUT, y);
        sd.identity(LOSS, y.sum());
        sd.setLossVariables(LOSS);

        this.gradientNames = new ArrayList<>(weights.keySet());
        gradientNames.add(INPUT);
        sd.createGradFunction(INPUT);

        this.feeds = Map.of(INPUT, Nd4j.randn(DataType.FLOAT, tokens, dIn)); // [T, d_in]
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

    public Variant variant() {
        return variant;
    }

    public SameDiff sd() {
        return sd;
    }

    /** Names whose gradients {@link #forwardBackward()} returns: the adapter weights, then {@code x}. */
    public List<String> gradientNames() {
        return gradientNames;
    }

    /** @return {@code y [T, d_out]} */
    public INDArray forward() {
        return sd.output(feeds, OUTPUT).get(OUTPUT);
    }

    /**
     * The library's path ({@link GradientFunction}: SameDiff's gradient function with its array cache on).
     *
     * @return the gradient of {@code sum(y)} for each name of {@link #gradientNames()}
     */
    public Map<String, INDArray> forwardBackward() {
        return GradientFunction.run(sd, feeds, List.of(), gradientNames).getGradients();
    }
}
