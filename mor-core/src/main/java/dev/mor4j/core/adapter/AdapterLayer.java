package dev.mor4j.core.adapter;

import dev.mor4j.core.nn.FrozenLinear;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One adapter attached to one frozen linear layer. Implementations hold no arrays: the weights live in the
 * map given to {@link AdapterContext} under the keys of {@link #weightShapes()}.
 */
public interface AdapterLayer {

    /** The PEFT module prefix, e.g. {@code base_model.model.model.layers.0.mlp.up_proj}. */
    String prefix();

    /** The frozen layer this adapter modifies. */
    FrozenLinear base();

    /** Full PEFT keys of this adapter's weights and their shapes, in a stable order. */
    LinkedHashMap<String, long[]> weightShapes();

    /** The number of trainable parameters of this layer: the sum over {@link #weightShapes()}. */
    default long parameterCount() {
        long n = 0;
        for (long[] shape : weightShapes().values()) {
            long c = 1;
            for (long d : shape) {
                c *= d;
            }
            n += c;
        }
        return n;
    }

    /** Fresh weights as PEFT initialises them, drawn from {@code rng}. */
    Map<String, INDArray> initialWeights(Random rng);

    /**
     * Adds the adapted layer to the graph.
     *
     * @param x {@code [tokens, d_in]}
     * @return {@code [tokens, d_out]}: the frozen output plus this adapter's contribution
     */
    SDVariable forward(AdapterContext ctx, SDVariable x);

    /**
     * The weight {@code [d_out, d_in]} with the adapter folded in, for adapters whose effect does not
     * depend on the input (LoRA, DoRA).
     *
     * @throws dev.mor4j.core.MorException with the reason, for input-dependent adapters (MoR, MoELoRA)
     */
    INDArray mergedWeight(Map<String, INDArray> weights);
}
