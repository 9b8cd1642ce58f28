package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.TestData;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.safetensors.DType;
import dev.mor4j.core.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** forward --adapter and merge through the command line. */
class AdapterCommandsTest {

    @TempDir
    Path tmp;

    private final Path model = TestData.root().resolve("models/tiny-llama-f32");
    private final Path baseMor = TestData.root().resolve("goldens/goldens-base-mor.safetensors");
    private final Path peft = TestData.root().resolve("goldens/goldens-peft.safetensors");

    /** A MoR adapter directory written from the golden weights. */
    private Path morAdapterFromGoldens() {
        Map<String, INDArray> w = new LinkedHashMap<>();
        try (SafetensorsFile g = SafetensorsFile.open(baseMor)) {
            for (String k : g.keys()) {
                if (k.startsWith("mor.param.")) {
                    w.put(k.substring("mor.param.".length()), g.getFloat(k));
                }
            }
        }
        AdapterConfig cfg = AdapterConfig.mor().rank(8).alpha(32).dropout(0.0).experts(4).router(RouterType.SOFTMAX)
                .baseModel("tiny-llama-f32").build();
        Path dir = tmp.resolve("mor-adapter");
        AdapterFiles.save(dir, cfg, w);
        return dir;
    }

    @Test
    void forwardWithAMorAdapterReproducesTheMorGoldens() {
        Path out = tmp.resolve("mor.safetensors");
        CliTestSupport.Run r = CliTestSupport.run(null, "forward", "--model", model.toString(), "--adapter",
                morAdapterFromGoldens().toString(), "--inputs", baseMor.toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (SafetensorsFile o = SafetensorsFile.open(out); SafetensorsFile g = SafetensorsFile.open(baseMor)) {
            double d = TestData.maxAbsDiff(o.getFloat("logits"), g.getFloat("mor.logits"));
            double l = Math.abs(o.getFloat("loss").getDouble(0) - g.getFloat("mor.loss").getDouble(0));
            System.out.printf("forward --adapter MoR: logits max|Δ| %.3g, loss |Δ| %.3g%n", d, l);
            assertTrue(d <= 1e-4, "logits " + d);
            assertTrue(l <= 1e-5, "loss " + l);
        }
    }

    @Test
    void mergeThenForwardGivesPeftMergedLogits() {
        Path merged = tmp.resolve("merged");
        CliTestSupport.Run r = CliTestSupport.run(null, "merge", "--model", model.toString(), "--adapter",
                TestData.root().resolve("adapters/peft-lora").toString(), "--out", merged.toString());
        assertEquals(0, r.exitCode(), r.err());
        Path out = tmp.resolve("o.safetensors");
        CliTestSupport.Run f = CliTestSupport.run(null, "forward", "--model", merged.toString(), "--inputs",
                peft.toString(), "--out", out.toString());
        assertEquals(0, f.exitCode(), f.err());
        try (SafetensorsFile o = SafetensorsFile.open(out); SafetensorsFile g = SafetensorsFile.open(peft)) {
            assertTrue(TestData.maxAbsDiff(o.getFloat("logits"), g.getFloat("peft.lora.merged_logits")) <= 1e-4);
        }
    }

    /** --max-shard-size splits as transformers does; --dtype chooses the stored type; bad values exit with 2. */
    @Test
    void mergeWritesShardsAndTheRequestedDtype() throws Exception {
        String lora = TestData.root().resolve("adapters/peft-lora").toString();
        Path sharded = tmp.resolve("sharded");
        CliTestSupport.Run r = CliTestSupport.run(null, "merge", "--model",
                TestData.root().resolve("models/tiny-llama-sharded").toString(), "--adapter", lora,
                "--out", sharded.toString(), "--max-shard-size", "1MB");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("(float32, 3 files and an index)"), r.err());
        assertTrue(Files.isRegularFile(sharded.resolve("model-00003-of-00003.safetensors")));
        Path out = tmp.resolve("o.safetensors");
        CliTestSupport.Run f = CliTestSupport.run(null, "forward", "--model", sharded.toString(), "--inputs",
                peft.toString(), "--out", out.toString());
        assertEquals(0, f.exitCode(), f.err());
        try (SafetensorsFile o = SafetensorsFile.open(out); SafetensorsFile g = SafetensorsFile.open(peft)) {
            assertTrue(TestData.maxAbsDiff(o.getFloat("logits"), g.getFloat("peft.lora.merged_logits")) <= 1e-4);
        }

        Path bf16 = tmp.resolve("bf16");
        r = CliTestSupport.run(null, "merge", "--model", model.toString(), "--adapter", lora, "--out", bf16.toString(),
                "--dtype", "bfloat16");
        assertEquals(0, r.exitCode(), r.err());
        try (SafetensorsFile w = SafetensorsFile.open(bf16.resolve("model.safetensors"))) {
            assertEquals(DType.BF16, w.info("model.layers.0.mlp.up_proj.weight").dtype());
        }
        assertTrue(Files.readString(bf16.resolve("config.json")).contains("\"dtype\": \"bfloat16\""));

        for (String[] bad : new String[][] {{"--dtype", "int8", "--dtype 'int8'"},
            {"--max-shard-size", "5 gigs", "--max-shard-size: size '5 gigs'"}}) {
            Path none = tmp.resolve("none");
            r = CliTestSupport.run(null, "merge", "--model", model.toString(), "--adapter", lora, "--out",
                    none.toString(), bad[0], bad[1]);
            assertEquals(MorCli.EXIT_INPUT, r.exitCode());
            assertTrue(r.err().contains(bad[2]), r.err());
            assertFalse(Files.exists(none));
        }
    }

    @Test
    void mergingAMorAdapterIsRefusedWithTheReason() {
        Path out = tmp.resolve("merged-mor");
        CliTestSupport.Run r = CliTestSupport.run(null, "merge", "--model", model.toString(), "--adapter",
                morAdapterFromGoldens().toString(), "--out", out.toString());
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().contains("cannot be merged"), r.err());
        assertFalse(Files.exists(out));
    }
}
