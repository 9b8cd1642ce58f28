package dev.mor4j.core.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.TestData;
import dev.mor4j.core.nn.FrozenLinear;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One MoR layer on the reference MoR weights ({@code goldens-base-mor.safetensors}, N = 4, r = 8, α = 32,
 * softmax router) and the tiny LLaMA's frozen MLP weights, against a per-token loop in plain Java doubles:
 * {@code o = W x + (α/r)·Σ_i softmax(W_r x)_i·(Ω_B[i] ⊙ (B (Ω_A[i] ⊙ (A x))))}.
 *
 * <p>Every form is checked twice: in float64 (weights upcast), where it must equal the loop to 1e-12, and in
 * float32, as training runs, to {@code 1e-6·max|y|}.
 */
class MixtureOfRanksGoldenTest {

    private static final String PEFT = "base_model.model.model.layers.%d.mlp.%s";
    private static final List<String> MODULES = List.of("gate_proj", "up_proj", "down_proj");
    private static final int TOKENS = 11;

    private static TinySafetensors goldens;
    private static TinySafetensors model;

    @BeforeAll
    static void load() throws IOException {
        Path data = Path.of(System.getProperty("mor.testdata", "../testdata"));
        goldens = TinySafetensors.open(data.resolve("goldens/goldens-base-mor.safetensors"));
        model = TinySafetensors.open(data.resolve("models/tiny-llama-f32/model.safetensors"));
    }

    private static AdapterConfig goldenConfig() {
        return AdapterConfig.mor().rank(8).alpha(32).dropout(0.0).targetModules(MODULES).experts(4)
                .router(RouterType.SOFTMAX).omegaInit(OmegaInit.ONES).build();
    }

    @Test
    void everyModuleMatchesTheHandLoop() {
        double worstFloat = 0;
        double worstDouble = 0;
        double scale = 0;
        Random rng = new Random(5);
        for (int layerIndex = 0; layerIndex < 2; layerIndex++) {
            for (String module : MODULES) {
                String prefix = String.format(PEFT, layerIndex, module);
                INDArray w = model.f32("model.layers." + layerIndex + ".mlp." + module + ".weight"); // [d_out, d_in]
                Map<String, INDArray> weights = new LinkedHashMap<>();
                for (String k : List.of("lora_A.weight", "lora_B.weight", "mor_omega_A", "mor_omega_B", "mor_router.weight")) {
                    weights.put(prefix + "." + k, goldens.f32("mor.param." + prefix + "." + k));
                }
                INDArray x = AdapterFixtures.randn(rng, DataType.FLOAT, 1.0, TOKENS, w.size(1)); // [tokens, d_in]
                double[][] expected = handLoop(w, weights, prefix, x, 32.0 / 8);
                INDArray ref = Nd4j.create(expected);
                scale = Math.max(scale, ref.amaxNumber().doubleValue());

                for (MorForm form : MorForm.values()) {
                    FrozenLinear base = new FrozenLinear("model.layers." + layerIndex + ".mlp." + module, w);
                    MixtureOfRanks mor = new MixtureOfRanks(goldenConfig(), prefix, base, form);
                    assertArrayEquals(mor.weightShapes().keySet().toArray(), weights.keySet().toArray());
                    INDArray y = AdapterFixtures.graph(mor, weights, DataType.FLOAT, false).output(Map.of("x", x));
                    double d = TestData.maxAbsDiff(y, ref);
                    worstFloat = Math.max(worstFloat, d);
                    // float32 carries ~6e-8 relative per rounding; allow a few roundings of the largest output.
                    double floatTolerance = 1e-6 * Math.max(1, ref.amaxNumber().doubleValue());
                    assertTrue(d <= floatTolerance, prefix + " " + form + " FLOAT: max |diff| " + d);

                    FrozenLinear base64 = new FrozenLinear(base.name(), w, DataType.DOUBLE);
                    MixtureOfRanks mor64 = new MixtureOfRanks(goldenConfig(), prefix, base64, form);
                    Map<String, INDArray> weights64 = new LinkedHashMap<>();
                    weights.forEach((k, v) -> weights64.put(k, v.castTo(DataType.DOUBLE)));
                    INDArray y64 = AdapterFixtures.graph(mor64, weights64, DataType.DOUBLE, false)
                            .output(Map.of("x", x.castTo(DataType.DOUBLE)));
                    double d64 = TestData.maxAbsDiff(y64, ref);
                    worstDouble = Math.max(worstDouble, d64);
                    assertTrue(d64 <= 1e-12, prefix + " " + form + " DOUBLE: max |diff| " + d64);
                }
            }
        }
        System.out.printf("MoR golden layers: max |diff| FLOAT %.3g, DOUBLE %.3g (max |y| %.3g)%n", worstFloat,
                worstDouble, scale);
    }

    /** The MoR output of every token, one expert at a time, in doubles. */
    private static double[][] handLoop(INDArray w, Map<String, INDArray> weights, String prefix, INDArray x, double s) {
        double[][] wm = w.castTo(DataType.DOUBLE).toDoubleMatrix(); // [d_out][d_in]
        double[][] a = weights.get(prefix + ".lora_A.weight").castTo(DataType.DOUBLE).toDoubleMatrix(); // [r][d_in]
        double[][] b = weights.get(prefix + ".lora_B.weight").castTo(DataType.DOUBLE).toDoubleMatrix(); // [d_out][r]
        double[][] oa = weights.get(prefix + ".mor_omega_A").castTo(DataType.DOUBLE).toDoubleMatrix(); // [N][r]
        double[][] ob = weights.get(prefix + ".mor_omega_B").castTo(DataType.DOUBLE).toDoubleMatrix(); // [N][d_out]
        double[][] wr = weights.get(prefix + ".mor_router.weight").castTo(DataType.DOUBLE).toDoubleMatrix(); // [N][d_in]
        double[][] xs = x.castTo(DataType.DOUBLE).toDoubleMatrix(); // [tokens][d_in]
        int dOut = wm.length;
        int r = a.length;
        int n = oa.length;
        double[][] out = new double[xs.length][dOut];
        for (int t = 0; t < xs.length; t++) {
            double[] xt = xs[t];
            double[] logits = new double[n];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                logits[i] = dot(wr[i], xt);
                max = Math.max(max, logits[i]);
            }
            double z = 0;
            for (int i = 0; i < n; i++) {
                logits[i] = Math.exp(logits[i] - max);
                z += logits[i];
            }
            double[] h = new double[r];
            for (int k = 0; k < r; k++) {
                h[k] = dot(a[k], xt);
            }
            for (int d = 0; d < dOut; d++) {
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    double up = 0;
                    for (int k = 0; k < r; k++) {
                        up += b[d][k] * oa[i][k] * h[k];
                    }
                    sum += logits[i] / z * ob[i][d] * up;
                }
                out[t][d] = dot(wm[d], xt) + s * sum;
            }
        }
        return out;
    }

    private static double dot(double[] u, double[] v) {
        double s = 0;
        for (int i = 0; i < u.length; i++) {
            s += u[i] * v[i];
        }
        return s;
    }
}
