package dev.mor4j.core.adapter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.nn.FrozenLinear;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Shared builders for the adapter tests: random layers, weights and inputs, and one-layer graphs. */
final class AdapterFixtures {

    private AdapterFixtures() {
    }

    /** A config for {@code method} with rank r, α = 2r+1 (so s is not a round number), N experts (MoRE: 3 tasks). */
    static AdapterConfig config(AdapterMethod method, int r, int experts, RouterType router, double dropout) {
        if (method == AdapterMethod.MORE) {
            return AdapterConfig.more(List.of("t0", "t1", "t2")).rank(r).alpha(2 * r + 1).dropout(dropout)
                    .targetModules("up_proj").build();
        }
        AdapterConfigBuilder b = switch (method) {
            case LORA -> AdapterConfig.lora();
            case DORA -> AdapterConfig.dora();
            case MOR -> AdapterConfig.mor().omegaInit(OmegaInit.RANDOM);
            case MOELORA -> AdapterConfig.moeLora();
            default -> throw new IllegalArgumentException("no adapter layer config for " + method);
        };
        if (method == AdapterMethod.MOR || method == AdapterMethod.MOELORA) {
            b.experts(experts).topK(Math.max(1, experts / 2)).routerAuxLossCoef(0.05);
            if (router != null) {
                b.router(router);
            }
        }
        return b.rank(r).alpha(2 * r + 1).dropout(dropout).targetModules("up_proj").build();
    }

    /**
     * A config as {@code adapter_config.json} text gives it, unchecked: how a file with a bad combination reaches
     * the layers (the builder would refuse it).
     */
    static AdapterConfig fromJson(String json) {
        try {
            return new ObjectMapper().readValue(json, AdapterConfig.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(json + ": " + e.getMessage(), e);
        }
    }

    /** Standard normal entries times {@code std}. */
    static INDArray randn(Random rng, DataType dt, double std, long... shape) {
        double[] v = new double[Math.toIntExact(WeightInit.count(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = std * rng.nextGaussian();
        }
        return Nd4j.create(v, shape, dt);
    }

    static FrozenLinear base(Random rng, int dIn, int dOut, DataType dt) {
        return new FrozenLinear("model.layers.0.mlp.up_proj", randn(rng, DataType.DOUBLE, 1 / Math.sqrt(dIn), dOut, dIn), dt);
    }

    /**
     * Nonzero weights for every key of the layer: scaling vectors around 1, DoRA magnitudes 0.6–1.4 times the
     * row norms of the adapted weight (as training would move them), everything else N(0, std²).
     */
    static Map<String, INDArray> randomWeights(AdapterLayer layer, Random rng, DataType dt, double std) {
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : layer.weightShapes().entrySet()) {
            String k = e.getKey();
            if (k.endsWith(MixtureOfRanks.OMEGA_A) || k.endsWith(MixtureOfRanks.OMEGA_B)) {
                w.put(k, randn(rng, dt, 0.3, e.getValue()).addi(1.0));
            } else if (!k.endsWith(DoraLayer.MAGNITUDE)) {
                w.put(k, randn(rng, dt, std, e.getValue()));
            }
        }
        if (layer instanceof DoraLayer d) {
            INDArray a = w.get(layer.prefix() + "." + LoraLayer.LORA_A);
            INDArray b = w.get(layer.prefix() + "." + LoraLayer.LORA_B);
            INDArray v = layer.base().weight().castTo(dt).add(b.mmul(a).muli(d.scaling()));
            INDArray m = DoraLayer.rowNorms(v);
            for (int i = 0; i < m.length(); i++) {
                m.putScalar(i, m.getDouble(i) * (0.6 + 0.8 * rng.nextDouble()));
            }
            w.put(layer.prefix() + "." + DoraLayer.MAGNITUDE, m);
        }
        return w;
    }

    /** Dropout masks as the trainer fills them: 0 with probability p, else 1/(1−p). */
    static INDArray dropoutMask(Random rng, DataType dt, double p, long tokens, long dIn) {
        double[] v = new double[Math.toIntExact(tokens * dIn)];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextDouble() < p ? 0 : 1 / (1 - p);
        }
        return Nd4j.create(v, new long[] {tokens, dIn}, dt);
    }

    /** One adapted layer in its own graph, input placeholder {@code x [tokens, d_in]}. */
    record Graph(SameDiff sd, AdapterContext ctx, SDVariable x, SDVariable y) {

        /** Runs the graph and returns y. */
        INDArray output(Map<String, INDArray> placeholders) {
            return sd.output(placeholders, y.name()).get(y.name());
        }
    }

    static Graph graph(AdapterLayer layer, Map<String, INDArray> weights, DataType dt, boolean training) {
        return graph(layer, weights, dt, training, false);
    }

    /** @param tokenMask whether to give the context a {@code token_mask [tokens, 1]} FLOAT placeholder */
    static Graph graph(AdapterLayer layer, Map<String, INDArray> weights, DataType dt, boolean training,
            boolean tokenMask) {
        SameDiff sd = SameDiff.create();
        AdapterContext ctx = new AdapterContext(sd, weights, training);
        SDVariable x = sd.placeHolder("x", dt, -1, layer.base().inFeatures());
        if (tokenMask) {
            ctx.setTokenMask(sd.placeHolder("token_mask", DataType.FLOAT, -1, 1));
        }
        SDVariable y = layer.forward(ctx, x);
        return new Graph(sd, ctx, x, y);
    }

    /** The frozen layer alone, in its own graph. */
    static INDArray baseOutput(FrozenLinear base, INDArray x) {
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("x", x.dataType(), -1, base.inFeatures());
        SDVariable y = base.forward(sd, in);
        return sd.output(Map.of("x", x), y.name()).get(y.name());
    }

}
