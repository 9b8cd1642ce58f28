package dev.mor4j.core.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdapterConfigBuilderTest {

    @Test
    void defaultsAreThePapersSetting() {
        AdapterConfig mor = AdapterConfig.mor().build();
        assertEquals(AdapterMethod.MOR, mor.method());
        assertEquals(8, mor.r());
        assertEquals(32.0, mor.loraAlpha());
        assertEquals(0.05, mor.loraDropout());
        assertEquals(List.of("gate_proj", "up_proj", "down_proj"), mor.targetModules());
        assertEquals(8, mor.experts());
        assertEquals(RouterType.SOFTMAX, mor.router());
        assertEquals("ones", mor.omegaInit());
        assertEquals("CAUSAL_LM", mor.taskType());
        assertEquals(4.0, mor.scaling());

        AdapterConfig dora = AdapterConfig.dora().rank(16).alpha(8).targetModules("q_proj", "v_proj").build();
        assertEquals(AdapterMethod.DORA, dora.method());
        assertEquals("LORA", dora.peftType());
        assertTrue(dora.useDora());
        assertNull(dora.numExperts(), "LoRA and DoRA configs carry no mixture fields (PEFT would not know them)");
        assertNull(dora.omegaInit());

        AdapterConfig more = AdapterConfig.more(List.of("a", "b")).rankExperts(1, 4, 8).taskLossWeight(0.2).build();
        assertEquals(AdapterMethod.MORE, more.method());
        assertEquals(List.of(1, 4, 8), more.rankExpertsOrDefault());
        assertEquals(List.of("a", "b"), more.taskNames());
        assertEquals(0.2, more.taskLossWeightOrDefault());
        assertNull(more.numExperts());

        AdapterConfig topk = AdapterConfig.moeLora().experts(4).router(RouterType.TOPK).topK(2).build();
        assertEquals(2, topk.topK());
    }

    @Test
    void aBuiltConfigSurvivesItsJson(@TempDir Path dir) {
        AdapterConfig c = AdapterConfig.lora().rank(4).rankPattern(Map.of("down_proj", 2)).baseModel("m").build();
        AdapterFiles.save(dir, c, Map.of());
        assertEquals(c, AdapterFiles.readConfig(dir.resolve(AdapterFiles.CONFIG)));
    }

    @Test
    void badCombinationsNameTheOption() {
        assertMessage("adapter config (MOR): rank must be ≥ 1, got 0", () -> AdapterConfig.mor().rank(0).build());
        assertMessage("adapter config (LORA): dropout must be in [0, 1), got 1.0",
                () -> AdapterConfig.lora().dropout(1).build());
        assertMessage("adapter config (MOELORA): topK must be in [1, experts=2] for the topk router, got 3",
                () -> AdapterConfig.moeLora().experts(2).router(RouterType.TOPK).topK(3).build());
        assertMessage("adapter config (LORA): omegaInit applies to MoR only",
                () -> AdapterConfig.lora().omegaInit(OmegaInit.RANDOM).build());
        assertMessage("adapter config (MOR): rankPattern and alphaPattern apply to LoRA and DoRA only",
                () -> AdapterConfig.mor().rankPattern(Map.of("x", 2)).build());
        assertMessage("rank_experts must increase strictly within [1, r=8], got [4, 2]",
                () -> AdapterConfig.more(List.of("a")).rankExperts(4, 2).build());
        assertMessage("needs 'tasks'", () -> AdapterConfig.more(List.of()).build());
        assertFalse(AdapterConfig.mor().rslora(true).build().scaling() == 4.0);
    }

    @Test
    void aConfigIsMadeByItsBuilderNotByAPositionalConstructor() {
        for (java.lang.reflect.Constructor<?> c : AdapterConfig.class.getConstructors()) {
            assertTrue(c.getParameterCount() <= 3, "public " + c);
        }
    }

    @Test
    void toBuilderStartsFromEveryOptionOfTheConfig() {
        List<AdapterConfig> configs = List.of(
                AdapterConfig.lora().rank(4).alpha(8).rslora(true).rankPattern(Map.of("down_proj", 2))
                        .alphaPattern(Map.of("up_proj", 3.0)).targetModules("up_proj", "down_proj").build(),
                AdapterConfig.dora().dropout(0.1).baseModel("m").build(),
                AdapterConfig.mor().experts(4).router(RouterType.TOPK).topK(3).omegaInit(OmegaInit.RANDOM).build(),
                AdapterConfig.moeLora().experts(3).router(RouterType.BALANCED).routerAuxLossCoef(0.2).build(),
                AdapterConfig.more(List.of("a", "b")).rankExperts(1, 4, 8).taskLossWeight(0.3).taskTemperature(0.5)
                        .build());
        for (AdapterConfig c : configs) {
            assertEquals(c, c.toBuilder().build());
        }
        AdapterConfig changed = configs.get(2).toBuilder().dropout(0.0).build();
        assertEquals(0.0, changed.loraDropout());
        assertEquals(3, changed.topK());
        assertEquals("random", changed.omegaInit());
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable e) {
        MorException ex = assertThrows(MorException.class, e);
        assertTrue(ex.getMessage().contains(expected), ex.getMessage());
    }
}
