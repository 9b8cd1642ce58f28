package dev.mor4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.HashSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tokenizer benchmark's corpora, and a tiny run of it with HF tokenizers in the process. */
class TokenizerThroughputTest {

    private static final Path TESTDATA = TestData.root();

    @TempDir
    Path tmp;

    @Test
    void corporaReachTheirSize() {
        TuluEncoder encoder = new TuluEncoder(Tokenizer.load(TESTDATA.resolve("tokenizers/sp-bpe-32k")), 64);
        TuluCorpus sample = TuluCorpus.repeat(TESTDATA.resolve("tulu/tulu_v2_sample.jsonl"), encoder, 20_000);
        assertTrue(sample.bytes() >= 20_000 && sample.texts().size() % 16 == 0, sample.bytes() + " bytes");
        assertEquals(16, new HashSet<>(sample.texts()).size());
        TuluCorpus random = TuluCorpus.random(encoder, 20_000, 1);
        assertTrue(random.bytes() >= 20_000);
        assertEquals(random.texts().size(), new HashSet<>(random.texts()).size(), "random texts are all distinct");
        assertEquals(encoder.text(random.conversations().get(0).messages()), random.texts().get(0));
    }

    /** With HF tokenizers: the run itself checks that its ids equal ours on every text of the sample. */
    @Test
    void runsNextToHfTokenizers() throws Exception {
        Path out = tmp.resolve("throughput.json");
        TokenizerThroughput.main(new String[] {"--testdata", TESTDATA.toString(), "--mb", "0.05", "--rounds", "2",
            "--warmup", "0", "--out", out.toString()});
        JsonNode tasks = new ObjectMapper().readTree(out.toFile()).get("tasks");
        for (String task : new String[] {"sp-bpe-32k", "hf sp-bpe-32k", "encoder sp-bpe-32k", "llama3", "hf llama3",
            "encoder llama3"}) {
            assertTrue(tasks.path(task).path("mb_per_s").path("median").asDouble() > 0, task);
        }
        assertTrue(tasks.path("llama3").path("over_hf").path("median").asDouble() > 0);
        assertTrue(tasks.path("encoder llama3").path("examples_per_s").path("median").asDouble() > 0);
    }
}
