package dev.mor4j.bench;

import dev.mor4j.core.adapter.AdapterContext;
import dev.mor4j.core.nn.SessionMemory;
import dev.mor4j.core.train.GradientFunction;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One adapted projection as a SameDiff graph, with random weights: a FLOAT placeholder {@code x [T, d_in]},
 * the output {@code y [T, d_out]} and the loss {@code sum(y)} (so the incoming gradient is all ones).
 *
 * <p>{@link #forward()} computes {@code y}; {@link #forwardBackward()} computes the gradients of every adapter
 * weight and of {@code x} ({@link RandomProjection} draws the weights and input and ends the graph).
 */
public final class ProjectionGraph {

    public static final String INPUT = RandomProjection.INPUT;
    public static final String OUTPUT = RandomProjection.OUTPUT;
    public static final String LOSS = RandomProjection.LOSS;

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
        RandomProjection p = new RandomProjection(variant, dIn, dOut, tokens, seed);
        this.sd = SameDiff.create();
        SDVariable x = sd.placeHolder(INPUT, DataType.FLOAT, -1, dIn); // [T, d_in]
        AdapterContext ctx = new AdapterContext(sd, p.weights, true);
        SDVariable y = p.layer == null ? p.base.forward(sd, x) : p.layer.forward(ctx, x); // [T, d_out]
        this.gradientNames = p.finish(sd, y, ctx.auxLosses());
        this.feeds = p.feeds;
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
        return SessionMemory.output(sd, feeds, OUTPUT).get(OUTPUT);
    }

    /**
     * The library's path ({@link GradientFunction}: SameDiff's gradient function with its array cache on).
     *
     * @return the gradient of {@code sum(y)} for each name of {@link #gradientNames()}
     */
    public Map<String, INDArray> forwardBackward() {
        return GradientFunction.run(sd, feeds, List.of(), gradientNames).getGradients();
    }

    /** Attaches an {@link OpProfile} and runs {@code passes} forward+backward passes under it. */
    public OpProfile profile(int passes) {
        OpProfile profile = new OpProfile();
        sd.setListeners(profile);
        for (int i = 0; i < passes; i++) {
            forwardBackward();
        }
        return profile;
    }
}
