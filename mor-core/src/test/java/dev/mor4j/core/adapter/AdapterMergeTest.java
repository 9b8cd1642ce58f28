package dev.mor4j.core.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import dev.mor4j.core.nn.FrozenLinear;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Folding LoRA and DoRA into the base weight changes nothing; MoR and MoE-LoRA refuse, saying why. */
class AdapterMergeTest {

    @ParameterizedTest
    @EnumSource(value = AdapterMethod.class, names = {"LORA", "DORA"})
    void mergedWeightGivesTheUnmergedOutput(AdapterMethod method) {
        for (boolean rslora : new boolean[] {false, true}) {
            Random rng = new Random(41);
            AdapterConfig c = AdapterFixtures.config(method, 8, 1, RouterType.SOFTMAX, 0.1);
            AdapterConfig cfg = c.toBuilder().rslora(rslora).build();
            FrozenLinear base = AdapterFixtures.base(rng, 32, 88, DataType.FLOAT);
            AdapterLayer layer = AdapterLayers.create(cfg, "p", base);
            Map<String, INDArray> w = AdapterFixtures.randomWeights(layer, rng, DataType.FLOAT, 0.1);
            INDArray x = AdapterFixtures.randn(rng, DataType.FLOAT, 1.0, 13, 32); // [tokens, d_in]

            INDArray unmerged = AdapterFixtures.graph(layer, w, DataType.FLOAT, false).output(Map.of("x", x));
            INDArray mergedW = layer.mergedWeight(w); // [d_out, d_in]
            INDArray merged = AdapterFixtures.baseOutput(new FrozenLinear("merged", mergedW), x);
            assertTrue(TestData.maxAbsDiff(unmerged, AdapterFixtures.baseOutput(base, x)) > 0.1,
                    "the adapter must change the output");
            double d = TestData.maxAbsDiff(unmerged, merged);
            System.out.printf("%s rslora=%s merged vs unmerged: max |diff| %.3g%n", method, rslora, d);
            assertTrue(d <= 1e-5, method + " rslora=" + rslora + ": max |diff| " + d);
        }
    }

    /**
     * The PEFT-saved adapters in testdata use exactly this layer's keys and shapes, and merging them on the
     * tiny LLaMA's weights preserves the output.
     */
    @ParameterizedTest
    @EnumSource(value = AdapterMethod.class, names = {"LORA", "DORA"})
    void peftSavedAdaptersUseTheseKeysAndMerge(AdapterMethod method) throws IOException {
        Path data = Path.of(System.getProperty("mor.testdata", "../testdata"));
        String dir = method == AdapterMethod.DORA ? "peft-dora" : "peft-lora";
        TinySafetensors adapter = TinySafetensors.open(data.resolve("adapters/" + dir + "/adapter_model.safetensors"));
        TinySafetensors model = TinySafetensors.open(data.resolve("models/tiny-llama-f32/model.safetensors"));
        AdapterConfig cfg = (method == AdapterMethod.DORA ? AdapterConfig.dora() : AdapterConfig.lora()).rank(8)
                .alpha(32).dropout(0).build();
        Random rng = new Random(44);
        double worst = 0;
        for (int layerIndex = 0; layerIndex < 2; layerIndex++) {
            for (String module : List.of("gate_proj", "up_proj", "down_proj")) {
                String name = "model.layers." + layerIndex + ".mlp." + module;
                FrozenLinear base = new FrozenLinear(name, model.f32(name + ".weight"));
                AdapterLayer layer = AdapterLayers.create(cfg, "base_model.model." + name, base);
                Map<String, INDArray> w = new LinkedHashMap<>();
                layer.weightShapes().forEach((k, shape) -> {
                    INDArray a = adapter.f32(k);
                    assertArrayEquals(shape, a.shape(), k);
                    w.put(k, a);
                });
                INDArray x = AdapterFixtures.randn(rng, DataType.FLOAT, 1.0, 13, base.inFeatures());
                INDArray unmerged = AdapterFixtures.graph(layer, w, DataType.FLOAT, false).output(Map.of("x", x));
                INDArray merged = AdapterFixtures.baseOutput(new FrozenLinear("merged", layer.mergedWeight(w)), x);
                double d = TestData.maxAbsDiff(unmerged, merged);
                worst = Math.max(worst, d);
                assertTrue(d <= 1e-5 * Math.max(1, unmerged.amaxNumber().doubleValue()), name + ": max |diff| " + d);
            }
        }
        System.out.printf("%s from PEFT (%s) merged vs unmerged: max |diff| %.3g%n", method, dir, worst);
    }

    @Test
    void freshDoraEqualsTheBaseLayer() {
        Random rng = new Random(42);
        FrozenLinear base = AdapterFixtures.base(rng, 24, 40, DataType.FLOAT);
        AdapterLayer dora = AdapterLayers.create(AdapterFixtures.config(AdapterMethod.DORA, 4, 1, null, 0), "p", base);
        Map<String, INDArray> w = dora.initialWeights(rng);
        INDArray x = AdapterFixtures.randn(rng, DataType.FLOAT, 1.0, 9, 24);
        double d = TestData.maxAbsDiff(AdapterFixtures.graph(dora, w, DataType.FLOAT, false).output(Map.of("x", x)),
                AdapterFixtures.baseOutput(base, x));
        assertTrue(d <= 1e-6, "max |diff| " + d);
    }

    @ParameterizedTest
    @EnumSource(value = AdapterMethod.class, names = {"MOR", "MOELORA"})
    void inputDependentAdaptersCannotBeMerged(AdapterMethod method) {
        Random rng = new Random(43);
        AdapterLayer layer = AdapterLayers.create(AdapterFixtures.config(method, 4, 3, RouterType.SOFTMAX, 0),
                "model.layers.0.mlp.up_proj", AdapterFixtures.base(rng, 8, 8, DataType.FLOAT));
        Map<String, INDArray> w = layer.initialWeights(rng);
        MorException e = assertThrows(MorException.class, () -> layer.mergedWeight(w));
        assertTrue(e.getMessage().contains("model.layers.0.mlp.up_proj") && e.getMessage().contains("router"),
                e.getMessage());
    }
}
