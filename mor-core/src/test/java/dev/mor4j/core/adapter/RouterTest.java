package dev.mor4j.core.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.TestData;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Router outputs and the load-balancing loss against hand computations. */
class RouterTest {

    private static final int D_IN = 5;
    private static final int N = 6;
    private static final int TOKENS = 9;

    private final Random rng = new Random(7);
    private final INDArray wr = AdapterFixtures.randn(rng, DataType.DOUBLE, 1.0, N, D_IN); // [N, d_in]
    private final INDArray x = AdapterFixtures.randn(rng, DataType.DOUBLE, 1.0, TOKENS, D_IN); // [tokens, d_in]

    private record Run(INDArray gates, AdapterContext ctx, Map<String, INDArray> out) {
    }

    private Run run(Router router, boolean training, INDArray tokenMask) {
        SameDiff sd = SameDiff.create();
        AdapterContext ctx = new AdapterContext(sd, Map.of("r.weight", wr), training);
        SDVariable in = sd.placeHolder("x", DataType.DOUBLE, -1, D_IN);
        Map<String, INDArray> ph = new HashMap<>(Map.of("x", x));
        if (tokenMask != null) {
            ctx.setTokenMask(sd.placeHolder("mask", DataType.FLOAT, -1, 1));
            ph.put("mask", tokenMask);
        }
        SDVariable g = router.gates(ctx, "layer", in);
        String[] names = ctx.auxLosses().isEmpty() ? new String[] {g.name()}
                : new String[] {g.name(), ctx.auxLosses().get(0).name()};
        Map<String, INDArray> out = sd.output(ph, names);
        assertEquals(g.name(), ctx.routerOutputs().get("layer"), "router weights are recorded under the prefix");
        return new Run(out.get(g.name()), ctx, out);
    }

    /** softmax(x W_rᵀ), by hand. */
    private double[][] softmax() {
        double[][] logits = x.mmul(wr.transpose()).toDoubleMatrix();
        for (double[] row : logits) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : row) {
                max = Math.max(max, v);
            }
            double z = 0;
            for (int i = 0; i < row.length; i++) {
                row[i] = Math.exp(row[i] - max);
                z += row[i];
            }
            for (int i = 0; i < row.length; i++) {
                row[i] /= z;
            }
        }
        return logits;
    }

    @Test
    void softmaxAndMean() {
        double[][] p = softmax();
        INDArray soft = run(new Router(RouterType.SOFTMAX, "r.weight", D_IN, N, 0, 0), true, null).gates();
        assertTrue(TestData.maxAbsDiff(soft, Nd4j.create(p)) < 1e-14);
        INDArray mean = run(new Router(RouterType.MEAN, "r.weight", D_IN, N, 0, 0), true, null).gates();
        assertEquals(Nd4j.valueArrayOf(new long[] {TOKENS, N}, 1.0 / N, DataType.DOUBLE), mean);
    }

    @Test
    void topKKeepsTheLargestAndRenormalises() {
        double[][] p = softmax();
        for (int k = 1; k <= N; k++) {
            INDArray g = run(new Router(RouterType.TOPK, "r.weight", D_IN, N, k, 0), false, null).gates();
            for (int t = 0; t < TOKENS; t++) {
                double[] sorted = p[t].clone();
                Arrays.sort(sorted);
                double threshold = sorted[N - k];
                double kept = 0;
                for (double v : p[t]) {
                    kept += v >= threshold ? v : 0;
                }
                int nonzero = 0;
                for (int i = 0; i < N; i++) {
                    double expected = p[t][i] >= threshold ? p[t][i] / kept : 0;
                    assertEquals(expected, g.getDouble(t, i), 1e-14, "k=" + k + " token " + t + " expert " + i);
                    nonzero += g.getDouble(t, i) != 0 ? 1 : 0;
                }
                assertEquals(k, nonzero);
            }
        }
    }

    @Test
    void topKBreaksTiesByIndex() {
        SameDiff sd = SameDiff.create();
        INDArray zeros = Nd4j.zeros(DataType.DOUBLE, N, D_IN); // every expert equally likely
        AdapterContext ctx = new AdapterContext(sd, Map.of("r.weight", zeros), false);
        SDVariable g = new Router(RouterType.TOPK, "r.weight", D_IN, N, 2, 0).gates(ctx, "layer",
                sd.placeHolder("x", DataType.DOUBLE, -1, D_IN));
        INDArray out = sd.output(Map.of("x", x), g.name()).get(g.name());
        for (int t = 0; t < TOKENS; t++) {
            for (int i = 0; i < N; i++) {
                assertEquals(i < 2 ? 0.5 : 0.0, out.getDouble(t, i), 1e-15);
            }
        }
    }

    @Test
    void balancedLossOverRealTokens() {
        double coef = 0.03;
        INDArray mask = Nd4j.create(new float[] {1, 1, 0, 1, 1, 1, 0, 0, 1}, new long[] {TOKENS, 1});
        Run r = run(new Router(RouterType.BALANCED, "r.weight", D_IN, N, 0, coef), true, mask);
        assertTrue(TestData.maxAbsDiff(r.gates(), Nd4j.create(softmax())) < 1e-14, "balanced routes by softmax");
        double[][] p = softmax();
        double[] f = new double[N];
        double[] meanP = new double[N];
        double count = 0;
        for (int t = 0; t < TOKENS; t++) {
            if (mask.getDouble(t, 0) == 0) {
                continue;
            }
            count++;
            int best = 0;
            for (int i = 0; i < N; i++) {
                best = p[t][i] > p[t][best] ? i : best;
                meanP[i] += p[t][i];
            }
            f[best]++;
        }
        double expected = 0;
        for (int i = 0; i < N; i++) {
            expected += (f[i] / count) * (meanP[i] / count);
        }
        expected *= coef * N;
        assertEquals(1, r.ctx().auxLosses().size());
        assertEquals(expected, r.out().get(r.ctx().auxLosses().get(0).name()).getDouble(0), 1e-15);

        Run unmasked = run(new Router(RouterType.BALANCED, "r.weight", D_IN, N, 0, coef), true, null);
        assertTrue(Math.abs(unmasked.out().get(unmasked.ctx().auxLosses().get(0).name()).getDouble(0) - expected) > 1e-6,
                "padding tokens must not count");
        assertTrue(run(new Router(RouterType.BALANCED, "r.weight", D_IN, N, 0, coef), false, mask).ctx().auxLosses()
                .isEmpty(), "no auxiliary loss when not training");
    }
}
