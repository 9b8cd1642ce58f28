package dev.mor4j.llama.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.tokenizer.Tokenizer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TuluEncoderTest {

    private static final Path TESTDATA = TestData.root();
    private static final Tokenizer SP = Tokenizer.load(TESTDATA.resolve("tokenizers/sp-bpe-32k"));
    private static final Map<String, Conversation> SAMPLE = TuluReader
            .readAll(TESTDATA.resolve("tulu/tulu_v2_sample.jsonl"), new ArrayList<>()).stream()
            .collect(Collectors.toMap(Conversation::id, Function.identity()));

    @TempDir
    Path tmp;

    /** {@code goldens/text_goldens.json → tulu_sp_bpe_32k[]}: input ids and labels must match exactly. */
    @TestFactory
    Stream<DynamicTest> openInstructGoldens() throws IOException {
        JsonNode goldens = goldens();
        assertEquals(32, goldens.size());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode g : goldens) {
            String id = g.get("id").asText();
            int maxLength = g.get("max_seq_length").asInt();
            tests.add(DynamicTest.dynamicTest(id + " @ " + maxLength, () -> {
                EncodedExample e = new TuluEncoder(SP, maxLength).encode(SAMPLE.get(id));
                assertEquals(id, e.id());
                assertArrayEquals(ints(g.get("input_ids")), e.inputIds(), "input_ids");
                assertArrayEquals(ints(g.get("labels")), e.labels(), "labels");
            }));
        }
        return tests.stream();
    }

    @Test
    void encodeAllDropsExamplesWithNothingToTrainOn() throws IOException {
        long fullyMaskedAt24 = 0;
        for (JsonNode g : goldens()) {
            boolean fullyMasked = java.util.Arrays.stream(ints(g.get("labels"))).allMatch(l -> l == -100);
            if (g.get("max_seq_length").asInt() == 24 && fullyMasked) {
                fullyMaskedAt24++;
            }
        }
        assertTrue(fullyMaskedAt24 > 0, "the goldens at length 24 include fully masked examples");
        EncodeStats stats = new EncodeStats();
        List<EncodedExample> kept;
        try (TuluReader reader = TuluReader.openStrict(TESTDATA.resolve("tulu/tulu_v2_sample.jsonl"))) {
            kept = new TuluEncoder(SP, 24).encodeAll(reader.stream(), stats).toList();
        }
        assertEquals(16, stats.encoded());
        assertEquals(fullyMaskedAt24, stats.droppedWithoutTrainableTokens());
        assertEquals(16 - fullyMaskedAt24, kept.size());
        assertEquals(16, stats.truncated(), "every sample conversation is longer than 24 tokens");
        assertTrue(kept.stream().allMatch(e -> e.trainableTokens() > 0 && e.length() == 24));
        assertEquals(kept.stream().mapToLong(EncodedExample::trainableTokens).sum(), stats.trainableTokens());
    }

    @Test
    void formatsRolesLikeOpenInstruct() {
        TuluEncoder encoder = new TuluEncoder(SP, 1024);
        List<Message> messages = List.of(new Message(Role.SYSTEM, "  Be brief.\n"),
                new Message(Role.USER, "\u00a0Hi?\u0085"), new Message(Role.ASSISTANT, " Hello. "),
                new Message(Role.USER, "More"), new Message(Role.ASSISTANT, "No."));
        assertEquals("<|system|>\nBe brief.\n<|user|>\nHi?\n<|assistant|>\nHello.</s>\n<|user|>\nMore\n"
                + "<|assistant|>\nNo.</s>\n", encoder.format(messages));
    }

    @Test
    void assistantTurnsAreTheOnlyLabels() {
        TuluEncoder encoder = new TuluEncoder(SP, 1024);
        EncodedExample e = encoder.encode(SAMPLE.get("oasst1_7"));
        assertEquals(SP.bosId().getAsInt(), e.inputIds()[0]);
        assertEquals(TuluEncoder.IGNORE_INDEX, e.labels()[0]);
        // the decoded labelled positions are the two answers, each followed by EOS
        StringBuilder labelled = new StringBuilder();
        for (int i = 0; i < e.length(); i++) {
            if (e.labels()[i] != TuluEncoder.IGNORE_INDEX) {
                assertEquals(e.inputIds()[i], e.labels()[i]);
                labelled.append(SP.idToToken(e.labels()[i]));
            }
        }
        String text = labelled.toString();
        assertTrue(text.startsWith("Of") && text.contains("</s>") && text.endsWith("before.</s>"), text);
        assertFalse(text.contains("user"), text);
    }

    @Test
    void tokenizerWithoutEosIsRefused() throws IOException {
        Path file = tmp.resolve("tokenizer.json");
        Files.writeString(file, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}");
        Tokenizer noEos = Tokenizer.load(file);
        MorException e = assertThrows(MorException.class, () -> new TuluEncoder(noEos, 16));
        assertTrue(e.getMessage().contains("EOS") && e.getMessage().contains(file.toString()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TuluEncoder(SP, 0));
    }

    @Test
    void pythonStrip() {
        assertEquals("x", PythonStrings.strip("\u0085\u00a0 x\t\u202f\u3000\u001c"));
        assertEquals("\u200bx", PythonStrings.strip("\u200bx"), "zero width space is not whitespace in Python");
        assertEquals("", PythonStrings.strip(" \n "));
    }

    private static JsonNode goldens() throws IOException {
        return new ObjectMapper().readTree(TESTDATA.resolve("goldens/text_goldens.json").toFile())
                .get("tulu_sp_bpe_32k");
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
