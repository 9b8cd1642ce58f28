package dev.mor4j.core.adapter;

import dev.mor4j.core.MorException;
import dev.mor4j.core.nn.FrozenLinear;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What every adapter layer holds: its config, module prefix, frozen base layer, rank, dimensions and
 * scaling, plus the checks and key naming they share. Weights are created in the base layer's data type.
 */
abstract class BaseAdapterLayer implements AdapterLayer {

    protected final AdapterConfig config;
    protected final String prefix;
    protected final FrozenLinear base;
    protected final int r;
    protected final int dIn;
    protected final int dOut;
    protected final double scaling;

    BaseAdapterLayer(AdapterConfig config, String prefix, FrozenLinear base) {
        int rank = config.rankFor(prefix);
        if (rank < 1) {
            throw new MorException(prefix + ": r must be ≥ 1, got " + rank);
        }
        if (!(config.loraDropout() >= 0 && config.loraDropout() < 1)) {
            throw new MorException(prefix + ": lora_dropout must be in [0, 1), got " + config.loraDropout());
        }
        this.config = config;
        this.prefix = prefix;
        this.base = base;
        this.r = rank;
        this.dIn = base.inFeatures();
        this.dOut = base.outFeatures();
        this.scaling = config.scalingFor(prefix);
    }

    @Override
    public String prefix() {
        return prefix;
    }

    @Override
    public FrozenLinear base() {
        return base;
    }

    /** The config this layer was built from. */
    public AdapterConfig config() {
        return config;
    }

    /** This layer's rank ({@code r}, or its {@code rank_pattern} entry). */
    public int rank() {
        return r;
    }

    /** The factor the low-rank update is multiplied by. */
    public double scaling() {
        return scaling;
    }

    /** The full PEFT key of one of this layer's weights. */
    protected String key(String suffix) {
        return prefix + "." + suffix;
    }

    /** The shapes of the LoRA pair (LoRA, DoRA and MoR share it): {@code lora_A [r, d_in]}, {@code lora_B [d_out, r]}. */
    protected LinkedHashMap<String, long[]> loraPairShapes() {
        LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(key(LoraLayer.LORA_A), new long[] {r, dIn});
        shapes.put(key(LoraLayer.LORA_B), new long[] {dOut, r});
        return shapes;
    }

    /** PEFT's initial LoRA pair: {@code lora_A} kaiming-uniform (a = √5), {@code lora_B} zero. */
    protected LinkedHashMap<String, INDArray> loraPairInit(Random rng) {
        LinkedHashMap<String, INDArray> w = new LinkedHashMap<>();
        w.put(key(LoraLayer.LORA_A), WeightInit.kaimingUniform(rng, dataType(), r, dIn)); // [r, d_in]
        w.put(key(LoraLayer.LORA_B), WeightInit.zeros(dataType(), dOut, r)); // [d_out, r]
        return w;
    }

    /** Weights are created, and the graph computes, in the base layer's type. */
    protected DataType dataType() {
        return base.dataType();
    }

    /**
     * Adapter dropout on the input (a mask placeholder while training).
     *
     * @param x {@code [tokens, d_in]}
     * @return {@code [tokens, d_in]}; {@code x} itself when no dropout applies
     */
    protected SDVariable dropout(AdapterContext ctx, SDVariable x) {
        return ctx.dropout(prefix, x, dIn, config.loraDropout());
    }

    /** A weight from a map, checked against its expected shape, in the base layer's type. */
    protected INDArray require(Map<String, INDArray> weights, String key, long... shape) {
        INDArray a = weights.get(key);
        if (a == null) {
            throw new MorException("adapter weight '" + key + "' is missing: expected shape " + Arrays.toString(shape));
        }
        if (!Arrays.equals(a.shape(), shape)) {
            throw new MorException("adapter weight '" + key + "': expected shape " + Arrays.toString(shape)
                    + ", got " + Arrays.toString(a.shape()));
        }
        return a.castTo(dataType());
    }

    /** The error for adapters whose update depends on the input and so cannot be folded into W. */
    protected MorException notMergeable(String method) {
        return new MorException(prefix + ": a " + method + " adapter cannot be merged into the base weight: its"
                + " router weighs the experts differently for every input token, so no single matrix"
                + " reproduces it");
    }
}
