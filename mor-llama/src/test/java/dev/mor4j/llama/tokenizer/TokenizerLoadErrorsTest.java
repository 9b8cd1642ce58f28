package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MorException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Broken or unsupported {@code tokenizer.json} files are refused with a message naming the file and the field. */
class TokenizerLoadErrorsTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void notJson() throws IOException {
        Path file = write("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,");
        assertFails(file, "not valid JSON");
    }

    @Test
    void emptyFile() throws IOException {
        assertFails(write(""), "empty file");
    }

    @Test
    void rootIsNotAnObject() throws IOException {
        assertFails(write("[1, 2]"), "expected a JSON object");
    }

    @Test
    void missingModel() throws IOException {
        ObjectNode root = minimal();
        root.remove("model");
        assertFails(write(root), "model: expected an object");
    }

    @Test
    void missingVocab() throws IOException {
        ObjectNode root = minimal();
        ((ObjectNode) root.get("model")).remove("vocab");
        assertFails(write(root), "model.vocab: expected an object");
    }

    @Test
    void vocabIdNotAnInteger() throws IOException {
        ObjectNode root = minimal();
        ((ObjectNode) root.get("model").get("vocab")).put("b", "one");
        assertFails(write(root), "model.vocab: expected a non-negative integer id for token \"b\"");
    }

    @Test
    void missingMerges() throws IOException {
        ObjectNode root = minimal();
        ((ObjectNode) root.get("model")).remove("merges");
        assertFails(write(root), "model.merges: expected an array");
    }

    @Test
    void malformedMerge() throws IOException {
        ObjectNode root = minimal();
        ((ArrayNode) root.get("model").get("merges")).add("ab");
        assertFails(write(root), "model.merges[1]: expected \"left right\"");
    }

    @Test
    void mergeOfUnknownToken() throws IOException {
        ObjectNode root = minimal();
        ((ArrayNode) root.get("model").get("merges")).add("a z");
        assertFails(write(root), "model.merges[1]: expected tokens of model.vocab, but \"z\" is not in it");
    }

    @Test
    void unknownToken() throws IOException {
        ObjectNode root = minimal();
        ((ObjectNode) root.get("model")).put("unk_token", "<unk>");
        assertFails(write(root), "model.unk_token: expected a token of model.vocab");
    }

    @Test
    void otherModelTypesAreRefused() throws IOException {
        for (String type : new String[] {"WordPiece", "Unigram", "WordLevel"}) {
            ObjectNode root = minimal();
            ((ObjectNode) root.get("model")).put("type", type);
            assertFails(write(root), "model.type: unsupported model type \"" + type + "\"");
        }
    }

    @Test
    void unsupportedNormalizer() throws IOException {
        ObjectNode root = minimal();
        root.set("normalizer", json("{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\", "
                + "\"prepend\": \"x\"}, {\"type\": \"BertNormalizer\"}]}"));
        assertFails(write(root), "normalizer.normalizers[1]: unsupported normalizer type \"BertNormalizer\"");
    }

    @Test
    void unsupportedPreTokenizer() throws IOException {
        ObjectNode root = minimal();
        root.set("pre_tokenizer", json("{\"type\": \"Whitespace\"}"));
        assertFails(write(root), "pre_tokenizer: unsupported pre-tokenizer type \"Whitespace\"");
    }

    @Test
    void unsupportedDecoder() throws IOException {
        ObjectNode root = minimal();
        root.set("decoder", json("{\"type\": \"WordPiece\", \"prefix\": \"##\"}"));
        assertFails(write(root), "decoder: unsupported decoder type \"WordPiece\"");
    }

    @Test
    void unsupportedPostProcessor() throws IOException {
        ObjectNode root = minimal();
        root.set("post_processor", json("{\"type\": \"BertProcessing\", \"sep\": [\"[SEP]\", 1], "
                + "\"cls\": [\"[CLS]\", 0]}"));
        assertFails(write(root), "post_processor: unsupported post-processor type \"BertProcessing\"");
    }

    @Test
    void unsupportedSplitBehavior() throws IOException {
        ObjectNode root = minimal();
        root.set("pre_tokenizer", json("{\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, "
                + "\"behavior\": \"Sideways\", \"invert\": false}"));
        assertFails(write(root), "pre_tokenizer.behavior: unsupported split behavior \"Sideways\"");
    }

    @Test
    void untranslatableRegex() throws IOException {
        ObjectNode root = minimal();
        root.set("pre_tokenizer", json("{\"type\": \"Split\", \"pattern\": {\"Regex\": \"a\\\\Kb\"}, "
                + "\"behavior\": \"Isolated\", \"invert\": false}"));
        assertFails(write(root), "pre_tokenizer.pattern.Regex: regex \"a\\Kb\" uses \\K");
    }

    @Test
    void truncationSettingsAreRefused() throws IOException {
        ObjectNode root = minimal();
        root.set("truncation", json("{\"max_length\": 512, \"strategy\": \"LongestFirst\"}"));
        assertFails(write(root), "truncation: unsupported truncation settings");
    }

    @Test
    void templateWithUndefinedSpecialToken() throws IOException {
        ObjectNode root = minimal();
        root.set("post_processor", json("{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": "
                + "{\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], "
                + "\"special_tokens\": {}}"));
        assertFails(write(root), "post_processor.special_tokens: expected an entry for special token \"<s>\"");
    }

    @Test
    void configNamingAnUnknownEosToken() throws IOException {
        write(minimal());
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        MorException e = assertThrows(MorException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer_config.json") && e.getMessage().contains("\"</s>\""),
                e.getMessage());
    }

    @Test
    void missingFile() {
        MorException e = assertThrows(MorException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString())
                && e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void minimalFileLoads() throws IOException {
        Tokenizer t = Tokenizer.load(write(minimal()));
        assertTrue(t.encode("ab", false).length == 1, "a and b should merge");
    }

    /** A valid tokenizer with vocabulary a, b, ab and the merge "a b". */
    private static ObjectNode minimal() {
        return (ObjectNode) json("{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, "
                + "\"added_tokens\": [], \"normalizer\": null, \"pre_tokenizer\": null, \"post_processor\": null, "
                + "\"decoder\": null, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, "
                + "\"merges\": [\"a b\"]}}");
    }

    private static com.fasterxml.jackson.databind.JsonNode json(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private Path write(ObjectNode root) throws IOException {
        return write(MAPPER.writeValueAsString(root));
    }

    private Path write(String content) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, content);
        return file;
    }

    private static void assertFails(Path file, String expected) {
        MorException e = assertThrows(MorException.class, () -> Tokenizer.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), "message should name the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected \"" + expected + "\" in: " + e.getMessage());
    }
}
