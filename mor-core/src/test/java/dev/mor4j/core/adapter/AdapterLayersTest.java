package dev.mor4j.core.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.nn.FrozenLinear;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The factory, initialisation and the errors users see. */
class AdapterLayersTest {

    private final Random rng = new Random(9);
    private final FrozenLinear base = AdapterFixtures.base(rng, 64, 48, DataType.FLOAT);

    private static AdapterConfig cfg(String type, boolean dora, Integer n, RouterType router, Integer topK, String omega) {
        // as a file would give it: some of these combinations are ones the builder refuses
        return AdapterFixtures.fromJson("{\"peft_type\": \"" + type + "\", \"r\": 8, \"lora_alpha\": 16,"
                + " \"lora_dropout\": 0.05, \"target_modules\": [\"up_proj\"], \"use_dora\": " + dora
                + (n == null ? "" : ", \"num_experts\": " + n)
                + (router == null ? "" : ", \"router\": \"" + router.jsonName() + "\"")
                + (topK == null ? "" : ", \"top_k\": " + topK)
                + (omega == null ? "" : ", \"omega_init\": \"" + omega + "\"")
                + ", \"task_type\": \"CAUSAL_LM\"}");
    }

    @Test
    void createsTheLayerTheConfigNames() {
        assertInstanceOf(LoraLayer.class, AdapterLayers.create(cfg("LORA", false, null, null, null, null), "p", base));
        assertInstanceOf(DoraLayer.class, AdapterLayers.create(cfg("lora", true, null, null, null, null), "p", base));
        assertInstanceOf(MoeLoraLayer.class, AdapterLayers.create(cfg("MOELORA", false, 4, null, null, null), "p", base));
        AdapterLayer mor = AdapterLayers.create(cfg("MOR", false, 4, null, null, null), "p", base);
        assertEquals(MorForm.EXPANDED, ((MixtureOfRanks) mor).form());
        assertEquals(RouterType.SOFTMAX, ((MixtureOfRanks) mor).router().type());
        assertEquals(MorForm.LOOP, ((MixtureOfRanks) AdapterLayers.create(AdapterConfig.morDefaults(), "p", base,
                MorForm.LOOP)).form());
        assertEquals(List.of("p.lora_A.weight", "p.lora_B.weight", "p.mor_omega_A", "p.mor_omega_B", "p.mor_router.weight"),
                List.copyOf(mor.weightShapes().keySet()));
        assertEquals(List.of("p.lora_A.0.weight", "p.lora_B.0.weight", "p.lora_A.1.weight", "p.lora_B.1.weight",
                "p.moe_router.weight"), List.copyOf(AdapterLayers.create(cfg("MOELORA", false, 2, null, null, null), "p",
                base).weightShapes().keySet()));
    }

    @Test
    void initialisesAsPeft() {
        double bound = 1 / Math.sqrt(64);
        Map<String, INDArray> w = AdapterLayers.create(cfg("MOR", false, 4, null, null, "ones"), "p", base)
                .initialWeights(rng);
        for (String k : List.of("p.lora_A.weight", "p.mor_router.weight")) {
            assertTrue(w.get(k).amaxNumber().doubleValue() <= bound, k);
            assertTrue(w.get(k).amaxNumber().doubleValue() > 0.9 * bound, k + " should fill its range");
        }
        assertEquals(0.0, w.get("p.lora_B.weight").amaxNumber().doubleValue());
        assertEquals(1.0, w.get("p.mor_omega_A").minNumber().doubleValue());
        assertEquals(1.0, w.get("p.mor_omega_B").maxNumber().doubleValue());
        assertEquals(DataType.FLOAT, w.get("p.mor_omega_B").dataType());

        INDArray omega = AdapterLayers.create(cfg("MOR", false, 16, null, null, "random"), "p", base)
                .initialWeights(rng).get("p.mor_omega_B"); // [16, 48]: 768 draws of N(1, 0.02²)
        assertEquals(1.0, omega.meanNumber().doubleValue(), 0.005);
        assertEquals(MixtureOfRanks.OMEGA_RANDOM_STD, omega.stdNumber().doubleValue(), 0.003);
    }

    @Test
    void rejectsBadConfigsNamingTheField() {
        assertMessage(() -> AdapterLayers.create(cfg("MOR", false, 4, RouterType.TOPK, 5, null), "p", base), "top_k", "5");
        assertMessage(() -> AdapterLayers.create(cfg("MOR", false, 4, RouterType.TOPK, null, null), "p", base), "top_k");
        assertMessage(() -> AdapterLayers.create(cfg("MOR", false, 4, null, null, "zeros"), "p", base), "omega_init", "zeros");
        assertMessage(() -> AdapterLayers.create(cfg("MOELORA", false, null, null, null, null), "p", base), "num_experts");
        assertMessage(() -> AdapterLayers.create(AdapterFixtures.fromJson(
                "{\"peft_type\": \"LORA\", \"r\": 0, \"lora_alpha\": 16}"), "p", base), "r must be");
        assertMessage(() -> AdapterLayers.create(AdapterFixtures.fromJson(
                "{\"peft_type\": \"LORA\", \"r\": 8, \"lora_alpha\": 16, \"lora_dropout\": 1.0}"), "p", base),
                "lora_dropout");
    }

    @Test
    void wrongOrMissingWeightsNameKeyAndShapes() {
        AdapterLayer lora = AdapterLayers.create(cfg("LORA", false, null, null, null, null), "p", base);
        Map<String, INDArray> w = new HashMap<>(lora.initialWeights(rng));
        w.put("p.lora_B.weight", AdapterFixtures.randn(rng, DataType.FLOAT, 1, 8, 48)); // transposed by mistake
        SameDiff sd = SameDiff.create();
        AdapterContext ctx = new AdapterContext(sd, w, false);
        assertMessage(() -> lora.forward(ctx, sd.placeHolder("x", DataType.FLOAT, -1, 64)), "p.lora_B.weight", "[48, 8]",
                "[8, 48]");
        assertMessage(() -> lora.mergedWeight(w), "p.lora_B.weight", "[48, 8]", "[8, 48]");
        w.remove("p.lora_A.weight");
        SameDiff sd2 = SameDiff.create();
        AdapterContext ctx2 = new AdapterContext(sd2, w, false);
        assertMessage(() -> lora.forward(ctx2, sd2.placeHolder("x", DataType.FLOAT, -1, 64)), "p.lora_A.weight", "missing");
    }

    @Test
    void dropoutIsAMaskPlaceholderOnlyWhenTraining() {
        AdapterLayer mor = AdapterLayers.create(AdapterConfig.morDefaults(), "p", base);
        Map<String, INDArray> w = mor.initialWeights(rng);
        AdapterFixtures.Graph train = AdapterFixtures.graph(mor, w, DataType.FLOAT, true);
        assertEquals(Map.of("p.dropout_mask", 64), train.ctx().dropoutMasks());
        assertEquals(0.05, train.ctx().dropoutRates().get("p.dropout_mask"));
        assertTrue(AdapterFixtures.graph(mor, w, DataType.FLOAT, false).ctx().dropoutMasks().isEmpty());
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        MorException e = assertThrows(MorException.class, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should mention " + p);
        }
    }
}
