package dev.mor4j.llama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.safetensors.DType;
import dev.mor4j.llama.config.ConfigJson;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.config.RopeScaling;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A randomly initialised model ({@link LlamaModel#random}) and the config.json written for it. */
class RandomInitTest {

    private static final LlamaConfig SMALL =
            new LlamaConfig(48, 128, 2, 4, 2, 12, 1e-6, 10000.0, false, 3000, 256, 1, List.of(2));

    @Test
    void matricesAreNormalWithTheInitializerRangeAndNormsAreOne() {
        LlamaModel m = LlamaModel.random(SMALL, 7);
        Map<String, INDArray> state = m.weights().stateDict(Map.of());
        assertEquals(LlamaWeights.expectedShapes(SMALL).keySet(), state.keySet());
        for (Map.Entry<String, INDArray> e : state.entrySet()) {
            double[] v = e.getValue().dup('c').data().asDouble();
            if (e.getKey().endsWith("norm.weight")) {
                for (double x : v) {
                    assertEquals(1.0, x, 0.0, e.getKey());
                }
                continue;
            }
            double sum = 0;
            double sumSq = 0;
            for (double x : v) {
                sum += x;
                sumSq += x * x;
            }
            double mean = sum / v.length;
            double std = Math.sqrt(sumSq / v.length - mean * mean);
            // n ≥ 1536 draws: the sample standard deviation is within 5 standard errors (0.02 / √(2n)) of 0.02
            double se = 0.02 / Math.sqrt(2.0 * v.length);
            assertEquals(0.02, std, 5 * se, e.getKey() + " standard deviation");
            assertEquals(0.0, mean, 5 * 0.02 / Math.sqrt(v.length), e.getKey() + " mean");
        }
    }

    @Test
    void theSameSeedGivesTheSameWeights() {
        Map<String, INDArray> a = LlamaModel.random(SMALL, 7).weights().stateDict(Map.of());
        Map<String, INDArray> b = LlamaModel.random(SMALL, 7).weights().stateDict(Map.of());
        Map<String, INDArray> c = LlamaModel.random(SMALL, 8).weights().stateDict(Map.of());
        for (String k : a.keySet()) {
            assertEquals(a.get(k), b.get(k), k);
        }
        assertTrue(!a.get("model.embed_tokens.weight").equals(c.get("model.embed_tokens.weight")));
        assertThrows(IllegalArgumentException.class, () -> LlamaModel.random(SMALL, 7, 0.0));
    }

    @Test
    void theWrittenConfigReadsBackAsTheSameConfig() throws Exception {
        LlamaConfig llama31 = new LlamaConfig(64, 160, 1, 4, 1, 16, 1e-5, 500000.0, true, 1000, 4096, 7,
                List.of(8, 9), new RopeScaling(RopeScaling.Type.LLAMA3, 8.0, 1.0, 4.0, 8192));
        for (LlamaConfig c : List.of(SMALL, llama31)) {
            String json = ConfigJson.of(c, DType.F32);
            assertEquals(c, LlamaConfig.fromJson(new ObjectMapper().readTree(json), "config.json"));
            assertEquals("float32", new ObjectMapper().readTree(json).get("torch_dtype").asText());
        }
    }
}
