package dev.mor4j.llama.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.adapter.MixtureOfRankExperts;
import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.llama.GoldenBatch;
import dev.mor4j.llama.MoreFixtures;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One task of a MoRE adapter merged into the base weights, or exported as a PEFT LoRA, computes what the MoRE adapter
 * computes for that task (the F32 tiny model, so that the merge's stored dtype rounds nothing).
 */
class MoreExportTest {

    private static LlamaModel model;
    private static LlamaAdapters more;
    private static Batch batch;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        more = MoreFixtures.adapters(model.weights(), 5);
        batch = GoldenBatch.golden();
    }

    /** The base model's logits {@code [B, T, V]} of a checkpoint directory. */
    private static INDArray baseLogits(LlamaModel m) {
        return LlamaForward.run(LlamaGraph.base(m.weights(), GraphKind.INFERENCE), batch).logits();
    }

    @Test
    void theMergedCheckpointOfEachTaskComputesTheAdaptersLogitsForIt() {
        INDArray base = baseLogits(model); // [B, T, V]
        for (int task = 0; task < MoreFixtures.TASKS.size(); task++) {
            Path out = tmp.resolve("merged-" + task);
            MoreExport.merge(model, more, task, out, null, 5_000_000_000L);
            LlamaModel merged = LlamaModel.load(out);
            INDArray expected = MoreFixtures.logits(model.weights(), more, batch, task); // [B, T, V]
            double rel = MoreFixtures.relativeDiff(baseLogits(merged), expected);
            double effect = MoreFixtures.relativeDiff(base, expected);
            System.out.printf("MoRE task %s merged: logits relative max|Δ| %.3g (the adapter moves them by %.3g)%n",
                    MoreFixtures.TASKS.get(task), rel, effect);
            assertTrue(rel <= 1e-5, "task " + task + ": relative difference " + rel);
            assertTrue(effect > 1e-2, "the adapter should change the logits; it moves them by " + effect);
            // each stored projection is W + s·B[:, :r_k] A[:r_k], the layer's own merge for the task
            try (SafetensorsFile w = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                for (Map.Entry<String, MixtureOfRankExperts> e : MoreTasks.layers(more).entrySet()) {
                    assertEquals(DType.F32, w.info(e.getKey() + ".weight").dtype());
                    float[] stored = w.floatData(e.getKey() + ".weight");
                    float[] layers = e.getValue().mergedWeight(more.weights(), task).dup('c').data().asFloat();
                    assertArrayEquals(layers, stored, 1e-6f, e.getKey());
                }
            }
        }
    }

    @Test
    void theExportedLoraLoadsBackAndComputesTheAdaptersLogits() throws Exception {
        int task = MoreFixtures.taskWithMixedRanks(more);
        Map<String, Integer> ranks = MoreTasks.chosenRanks(more, task); // module → r_k*
        int top = Collections.max(ranks.values());
        Path out = tmp.resolve("lora");
        MoreExport.writeLora(model.weights(), more, task, out, "tiny-llama-f32");

        LlamaAdapters lora = LlamaAdapters.load(model.weights(), out);
        INDArray expected = MoreFixtures.logits(model.weights(), more, batch, task); // [B, T, V]
        INDArray actual = LlamaForward.run(lora.graph(model.weights(), GraphKind.INFERENCE), batch).logits();
        double rel = MoreFixtures.relativeDiff(actual, expected);
        System.out.printf("MoRE task %s exported as LoRA (ranks %s): logits relative max|Δ| %.3g%n",
                MoreFixtures.TASKS.get(task), ranks.values(), rel);
        assertTrue(rel <= 1e-5, "relative difference " + rel);

        JsonNode config = new ObjectMapper().readTree(out.resolve(AdapterFiles.CONFIG).toFile());
        assertEquals("LORA", config.get("peft_type").asText());
        assertEquals(top, config.get("r").asInt());
        assertEquals(top, config.get("lora_alpha").asDouble());
        assertFalse(config.get("use_rslora").asBoolean());
        assertFalse(config.has("tasks") || config.has("rank_experts"), config.toString());
        assertEquals("tiny-llama-f32", config.get("base_model_name_or_path").asText());
        JsonNode rankPattern = config.get("rank_pattern");
        JsonNode alphaPattern = config.get("alpha_pattern");
        TreeSet<String> differing = new TreeSet<>();
        ranks.forEach((module, r) -> {
            if (r != top) {
                differing.add(module);
                assertEquals((int) r, rankPattern.get(module).asInt(), module);
                assertEquals((double) r, alphaPattern.get(module).asDouble(), module);
            }
        });
        assertFalse(differing.isEmpty(), "the task's modules choose different ranks");
        assertEquals(differing, names(rankPattern));
        assertEquals(differing, names(alphaPattern));
        try (SafetensorsFile w = SafetensorsFile.open(out.resolve(AdapterFiles.WEIGHTS))) {
            ranks.forEach((module, r) -> {
                String key = LlamaAdapters.PEFT_PREFIX + module;
                long dIn = model.weights().linear(module).inFeatures();
                long dOut = model.weights().linear(module).outFeatures();
                assertArrayEquals(new long[] {r, dIn}, w.info(key + ".lora_A.weight").shape(), key);
                assertArrayEquals(new long[] {dOut, r}, w.info(key + ".lora_B.weight").shape(), key);
                assertEquals(DType.F32, w.info(key + ".lora_A.weight").dtype());
            });
        }
    }

    private static TreeSet<String> names(JsonNode object) {
        TreeSet<String> out = new TreeSet<>();
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    @Test
    void unknownTasksOtherAdaptersAndUsedDirectoriesAreRefused() throws Exception {
        MorException e = assertThrows(MorException.class, () -> MoreExport.lora(model.weights(), more, "delta"));
        assertEquals("task 'delta' is not one of the adapter's tasks [alpha, beta, gamma]", e.getMessage());
        e = assertThrows(MorException.class, () -> MoreExport.lora(model.weights(), more, 3));
        assertTrue(e.getMessage().contains("task id 3 is outside [0, 3)"), e.getMessage());
        LlamaAdapters lora = LlamaAdapters.load(model.weights(), TestData.root().resolve("adapters/peft-lora"));
        e = assertThrows(MorException.class, () -> MoreExport.lora(model.weights(), lora, 0));
        assertTrue(e.getMessage().contains("expected a MoRE adapter (peft_type MORE), got LORA"), e.getMessage());
        e = assertThrows(MorException.class, () -> AdapterMerge.write(model, more, tmp.resolve("m")));
        assertTrue(e.getMessage().contains("merge it for one task (./mor merge --task NAME"), e.getMessage());
        assertTrue(e.getMessage().contains("[alpha, beta, gamma]"), e.getMessage());
        Path used = Files.createDirectories(tmp.resolve("used"));
        Files.writeString(used.resolve("keep.txt"), "x");
        e = assertThrows(MorException.class, () -> MoreExport.writeLora(model.weights(), more, 0, used, null));
        assertTrue(e.getMessage().contains("already exists and is not empty"), e.getMessage());
    }
}
