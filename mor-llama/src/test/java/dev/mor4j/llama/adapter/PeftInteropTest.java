package dev.mor4j.llama.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.safetensors.SafetensorsWriter;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.GoldenBatch;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Adapters saved by Python PEFT load here and compute what PEFT computes; ours save in PEFT's layout. */
class PeftInteropTest {

    private static SafetensorsFile goldens;
    private static LlamaModel model;
    private static Batch batch;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        goldens = SafetensorsFile.open(TestData.goldens("goldens-peft.safetensors"));
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        batch = GoldenBatch.of(goldens);
    }

    @AfterAll
    static void close() {
        goldens.close();
    }

    private static Path adapterDir(String kind) {
        return TestData.root().resolve("adapters").resolve("peft-" + kind);
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora", "dora"})
    void peftAdapterLogitsMatch(String kind) {
        LlamaAdapters a = LlamaAdapters.load(model.weights(), adapterDir(kind));
        LlamaForward.Result r = LlamaForward.run(a.graph(model.weights(), GraphKind.INFERENCE), batch);
        double d = TestData.maxAbsDiff(r.logits(), goldens.getFloat("peft." + kind + ".logits"));
        System.out.printf("PEFT %s: logits max|Δ| %.3g%n", kind, d);
        assertTrue(d <= 1e-4, kind + " logits max abs diff " + d);
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora", "dora"})
    void mergedCheckpointMatchesPeftMergeAndUnload(String kind) throws Exception {
        LlamaAdapters a = LlamaAdapters.load(model.weights(), adapterDir(kind));
        Path out = tmp.resolve("merged-" + kind);
        AdapterMerge.write(model, a, out);
        LlamaModel merged = LlamaModel.load(out);
        LlamaForward.Result r = LlamaForward.run(LlamaGraph.base(merged.weights(), GraphKind.INFERENCE), batch);
        double d = TestData.maxAbsDiff(r.logits(), goldens.getFloat("peft." + kind + ".merged_logits"));
        System.out.printf("PEFT %s merged: logits max|Δ| %.3g%n", kind, d);
        assertTrue(d <= 1e-4, kind + " merged logits max abs diff " + d);
        // as save_pretrained writes the F32 base: one F32 model.safetensors, no index, the base's config.json
        assertArrayEquals(Files.readAllBytes(model.directory().resolve("config.json")),
                Files.readAllBytes(out.resolve("config.json")));
        assertFalse(Files.exists(out.resolve("model.safetensors.index.json")));
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            for (String k : f.keys()) {
                assertEquals(DType.F32, f.info(k).dtype(), k);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora", "dora"})
    void saveThenLoadIsExactAndInPeftLayout(String kind) throws Exception {
        LlamaAdapters a = LlamaAdapters.load(model.weights(), adapterDir(kind));
        Path out = tmp.resolve("saved-" + kind);
        a.save(out, "tiny-llama-f32");
        AdapterFiles.Loaded back = AdapterFiles.load(out);
        assertEquals(a.weights().keySet(), back.weights().keySet());
        for (Map.Entry<String, INDArray> e : a.weights().entrySet()) {
            assertEquals(e.getValue(), back.weights().get(e.getKey()), e.getKey());
        }
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertEquals(kind.equals("dora"), cfg.get("use_dora").asBoolean());
        assertEquals(8, cfg.get("r").asInt());
        assertEquals(32.0, cfg.get("lora_alpha").asDouble());
        assertEquals("tiny-llama-f32", cfg.get("base_model_name_or_path").asText());
        assertTrue(cfg.get("target_modules").toString().contains("up_proj"));
        assertTrue(!cfg.has("num_experts") && !cfg.has("router"), "no MoR fields in a PEFT LoRA config: " + cfg);
        // the weights file holds exactly PEFT's keys
        try (SafetensorsFile ours = SafetensorsFile.open(out.resolve("adapter_model.safetensors"));
                SafetensorsFile peft = SafetensorsFile.open(adapterDir(kind).resolve("adapter_model.safetensors"))) {
            assertEquals(new java.util.TreeSet<>(peft.keys()), new java.util.TreeSet<>(ours.keys()));
        }
    }

    @Test
    void morAdapterCannotBeMerged() {
        LlamaAdapters mor = LlamaAdapters.of(model.weights(), MorGoldenTestConfig.config(), MorGoldenTestConfig.weights(), "t");
        MorException e = assertThrows(MorException.class, () -> AdapterMerge.write(model, mor, tmp.resolve("m")));
        assertTrue(e.getMessage().contains("cannot be merged") && e.getMessage().contains("router"), e.getMessage());
        assertTrue(!Files.exists(tmp.resolve("m")));
    }

    @Test
    void loadingListsEveryMissingUnexpectedAndMisshapedKey() throws Exception {
        Path dir = tmp.resolve("broken");
        Files.createDirectories(dir);
        Files.copy(adapterDir("lora").resolve("adapter_config.json"), dir.resolve("adapter_config.json"));
        Map<String, INDArray> w = new LinkedHashMap<>(AdapterFiles.load(adapterDir("lora")).weights());
        String p = "base_model.model.model.layers.";
        w.remove(p + "1.mlp.down_proj.lora_A.weight");
        w.put(p + "0.mlp.up_proj.lora_B.weight", Nd4j.zeros(DataType.FLOAT, 8, 88));
        w.put(p + "0.mlp.up_proj.lora_C.weight", Nd4j.zeros(DataType.FLOAT, 2));
        SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), w);
        MorException e = assertThrows(MorException.class, () -> LlamaAdapters.load(model.weights(), dir));
        String m = e.getMessage();
        assertTrue(m.contains("3 problems"), m);
        assertTrue(m.contains(p + "1.mlp.down_proj.lora_A.weight: missing, expected shape [8, 88]"), m);
        assertTrue(m.contains(p + "0.mlp.up_proj.lora_B.weight: expected [88, 8], got [8, 88]"), m);
        assertTrue(m.contains(p + "0.mlp.up_proj.lora_C.weight: unexpected key"), m);
    }

    @Test
    void unknownPeftTypeAndUnknownTargetModuleAreRefused() throws Exception {
        ObjectMapper json = new ObjectMapper();
        for (String[] change : new String[][] {{"peft_type", "IA3"}, {"target_modules", "fc_in"}}) {
            Path dir = tmp.resolve("cfg-" + change[0]);
            Files.createDirectories(dir);
            Files.copy(adapterDir("lora").resolve("adapter_model.safetensors"), dir.resolve("adapter_model.safetensors"));
            ObjectNode cfg = (ObjectNode) json.readTree(adapterDir("lora").resolve("adapter_config.json").toFile());
            if (change[0].equals("target_modules")) {
                cfg.putArray("target_modules").add("up_proj").add(change[1]);
            } else {
                cfg.put(change[0], change[1]);
            }
            json.writeValue(dir.resolve("adapter_config.json").toFile(), cfg);
            MorException e = assertThrows(MorException.class, () -> LlamaAdapters.load(model.weights(), dir));
            assertTrue(e.getMessage().contains(change[1]), e.getMessage());
        }
    }

    @Test
    void shapesOfLoadedPeftWeightsArePreserved() {
        LlamaAdapters a = LlamaAdapters.load(model.weights(), adapterDir("dora"));
        assertArrayEquals(new long[] {88}, a.weights().get(
                "base_model.model.model.layers.0.mlp.up_proj.lora_magnitude_vector").shape());
    }
}
