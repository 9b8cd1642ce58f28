package dev.mor4j.core.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/** PEFT's {@code rank_pattern}/{@code alpha_pattern} and MoRE's fields in {@code adapter_config.json}. */
class AdapterConfigPatternsTest {

    @Test
    void peftPatternsOverrideRankAndAlphaOfTheModulesTheyMatch(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("adapter_config.json"), """
                {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "lora_dropout": 0.0,
                 "target_modules": ["up_proj", "down_proj"],
                 "rank_pattern": {"model.layers.0.mlp.up_proj": 2, "down_proj": 4},
                 "alpha_pattern": {"layers.0.mlp.up_proj": 3}}""");
        AdapterConfig c = AdapterFiles.readConfig(dir.resolve("adapter_config.json"));
        String up0 = "base_model.model.model.layers.0.mlp.up_proj";
        String up1 = "base_model.model.model.layers.1.mlp.up_proj";
        String down1 = "base_model.model.model.layers.1.mlp.down_proj";
        assertEquals(2, c.rankFor(up0));
        assertEquals(3.0 / 2, c.scalingFor(up0));
        assertEquals(8, c.rankFor(up1));
        assertEquals(16.0 / 8, c.scalingFor(up1));
        assertEquals(4, c.rankFor(down1));
        assertEquals(16.0 / 4, c.scalingFor(down1));
        // "layers.0.mlp.up_proj" must not match "model.layers.10.mlp.up_proj"
        assertEquals(8, c.rankFor("base_model.model.model.layers.10.mlp.up_proj"));

        LoraLayer layer = new LoraLayer(c, up0, AdapterFixtures.base(new Random(1), 6, 5, DataType.FLOAT));
        assertEquals(2, layer.rank());
        assertEquals(List.of(2L, 6L), List.of(layer.weightShapes().get(up0 + ".lora_A.weight")[0],
                layer.weightShapes().get(up0 + ".lora_A.weight")[1]));

        Path out = dir.resolve("saved");
        AdapterFiles.save(out, c, layer.initialWeights(new Random(2)));
        AdapterConfig again = AdapterFiles.readConfig(out.resolve("adapter_config.json"));
        assertEquals(Map.of("model.layers.0.mlp.up_proj", 2, "down_proj", 4), again.rankPattern());
        assertEquals(Map.of("layers.0.mlp.up_proj", 3.0), again.alphaPattern());
    }

    @Test
    void moreFieldsSurviveASaveAndLoad(@TempDir Path dir) {
        AdapterConfig c = AdapterConfig.moreDefaults(List.of("flan_v2", "oasst1")).withBaseModel("tiny");
        MixtureOfRankExperts layer = new MixtureOfRankExperts(c, "p",
                AdapterFixtures.base(new Random(1), 6, 5, DataType.FLOAT));
        AdapterFiles.save(dir, c, layer.initialWeights(new Random(3)));
        AdapterFiles.Loaded loaded = AdapterFiles.load(dir);
        assertEquals(c, loaded.config());
        assertEquals(AdapterMethod.MORE, loaded.config().method());
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), loaded.config().rankExpertsOrDefault());
        assertEquals(layer.weightShapes().keySet(), loaded.weights().keySet());
    }
}
