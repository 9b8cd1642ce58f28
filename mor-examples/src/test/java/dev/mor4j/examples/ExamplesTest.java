package dev.mor4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.TestData;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.train.FineTuneResult;
import dev.mor4j.llama.train.MetricsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class ExamplesTest {

    private static final Path MODEL = TestData.root().resolve("models/tiny-llama-f32");
    private static final Path TOKENIZER = TestData.root().resolve("tokenizers/sp-bpe-32k");

    @Test
    void theReadmeShowsExactlyTheReadmeExampleClass() throws Exception {
        Path root = TestData.root().toAbsolutePath().getParent();
        String readme = Files.readString(root.resolve("README.md"));
        int section = readme.indexOf("## Use it from Java");
        assertTrue(section >= 0, "README.md has a 'Use it from Java' section");
        int start = readme.indexOf("```java\n", section) + "```java\n".length();
        int end = readme.indexOf("\n```", start);
        String shown = readme.substring(start, end).strip();
        String source = Files.readString(
                root.resolve("mor-examples/src/main/java/dev/mor4j/examples/ReadmeExample.java"));
        String withoutPackage = source.substring(source.indexOf(";\n") + 2).strip();
        assertEquals(withoutPackage, shown, "README.md and ReadmeExample.java differ");
    }

    @Test
    void theReadmeExampleTrainsAndSavesAnAdapterThatLoads(@TempDir Path out) {
        ReadmeExample.main(new String[] {MODEL.toString(), TOKENIZER.toString(), out.toString()});
        LlamaModel model = LlamaModel.load(MODEL);
        LlamaAdapters loaded = LlamaAdapters.load(model.weights(), out);
        assertEquals("MOR", loaded.config().peftType());
        assertEquals(MODEL.toString(), loaded.config().baseModelNameOrPath());
        for (Map.Entry<String, INDArray> e : loaded.weights().entrySet()) {
            if (e.getKey().endsWith("lora_B.weight")) {
                assertTrue(e.getValue().amaxNumber().doubleValue() > 0, e.getKey() + " moved from its zero start");
            }
        }
    }

    @Test
    void tuluFineTuneTrainsOnTheSample(@TempDir Path out) {
        FineTuneResult r = TuluFineTune.run(MODEL, TOKENIZER, TestData.root().resolve("tulu/tulu_v2_sample.jsonl"), out,
                2);
        assertEquals(2, r.globalStep());
        assertEquals(out, r.adapter());
        assertTrue(Files.isRegularFile(out.resolve(AdapterFiles.CONFIG)));
        assertTrue(Files.isRegularFile(out.resolve(AdapterFiles.WEIGHTS)));
        assertEquals(2, MetricsFile.read(out.resolve("metrics.jsonl")).size());
    }
}
