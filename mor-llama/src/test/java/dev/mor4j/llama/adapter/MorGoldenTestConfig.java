package dev.mor4j.llama.adapter;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.OmegaInit;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.TestData;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The MoR setting of the goldens (N=4, r=8, α=32, no dropout, gate/up/down) and its weights. */
final class MorGoldenTestConfig {

    private static final String PARAM = "mor.param.";

    private MorGoldenTestConfig() {
    }

    static AdapterConfig config() {
        return AdapterConfig.mor().rank(8).alpha(32).dropout(0.0).experts(4).router(RouterType.SOFTMAX)
                .omegaInit(OmegaInit.ONES).build();
    }

    /** Fresh copies of the golden adapter weights, keyed as PEFT saves them. */
    static Map<String, INDArray> weights() {
        Map<String, INDArray> w = new LinkedHashMap<>();
        try (SafetensorsFile g = SafetensorsFile.open(TestData.goldens("goldens-base-mor.safetensors"))) {
            for (String k : g.keys()) {
                if (k.startsWith(PARAM)) {
                    w.put(k.substring(PARAM.length()), g.getFloat(k));
                }
            }
        }
        return w;
    }
}
