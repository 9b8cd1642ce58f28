package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code tokenizer.json} (the HF {@code tokenizers} serialization) into a {@link Tokenizer}: the BPE
 * model, the added tokens and the pipeline components. Every missing or malformed field and every unsupported
 * component is reported as a {@link MorException} naming the file and the field.
 */
final class TokenizerJson {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final JsonFields json;

    private TokenizerJson(Path file) {
        this.json = new JsonFields(file);
    }

    static Tokenizer read(Path file) {
        return new TokenizerJson(file).read();
    }

    /** Parses a JSON file, with a {@link MorException} naming the file when it is unreadable or not JSON. */
    static JsonNode parse(Path file) {
        try {
            JsonNode root = MAPPER.readTree(file.toFile());
            if (root == null || root.isMissingNode()) {
                throw new MorException(file + ": expected a JSON object, found an empty file");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new MorException(file + ": not valid JSON (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + "): " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new MorException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private Tokenizer read() {
        JsonNode root = parse(json.file());
        if (!root.isObject()) {
            throw json.error("(root)", "expected a JSON object, found " + JsonFields.describe(root));
        }
        for (String unsupported : List.of("truncation", "padding")) {
            JsonNode node = root.get(unsupported);
            if (node != null && !node.isNull()) {
                throw json.unsupported(unsupported, unsupported + " settings (expected null; truncate and pad "
                        + "the encoded ids instead)");
            }
        }
        JsonNode model = json.object(root, "model", "");
        BpeModel bpe = bpeModel(model);
        ComponentParser components = new ComponentParser(json);
        Normalizer normalizer = components.normalizer(root.get("normalizer"), "normalizer");
        AddedVocabulary added = new AddedVocabulary(addedTokens(root), bpe, normalizer, json.file());
        PreTokenizer preTokenizer = components.preTokenizer(root.get("pre_tokenizer"), "pre_tokenizer");
        PostProcessor postProcessor = components.postProcessor(root.get("post_processor"), "post_processor");
        Decoder decoder = components.decoder(root.get("decoder"), "decoder");
        return new Tokenizer(json.file(), bpe, added, normalizer, preTokenizer, postProcessor, decoder,
                SpecialTokenNames.find(json.file(), added, postProcessor));
    }

    private BpeModel bpeModel(JsonNode model) {
        String type = json.optString(model, "type", "model", "BPE");
        if (!type.equals("BPE")) {
            throw json.unsupported("model.type", "model type \"" + type + "\" (supported: BPE)");
        }
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0.0) {
            throw json.unsupported("model.dropout", "BPE dropout " + dropout + " (expected null or 0)");
        }
        Map<String, Integer> vocab = vocab(json.object(model, "vocab", "model"));
        String[] tokensById = new String[vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1];
        vocab.forEach((token, id) -> tokensById[id] = token);
        String prefix = json.optString(model, "continuing_subword_prefix", "model", null);
        String suffix = json.optString(model, "end_of_word_suffix", "model", null);
        MergeTable merges = merges(json.array(model, "merges", "model"), vocab, prefix);
        String unk = json.optString(model, "unk_token", "model", null);
        int unkId = -1;
        if (unk != null) {
            Integer id = vocab.get(unk);
            if (id == null) {
                throw json.error("model.unk_token", "expected a token of model.vocab, found \"" + unk + "\"");
            }
            unkId = id;
        }
        return new BpeModel(vocab, tokensById, merges, unkId, json.optBoolean(model, "fuse_unk", "model", false),
                json.optBoolean(model, "byte_fallback", "model", false),
                json.optBoolean(model, "ignore_merges", "model", false), prefix, suffix);
    }

    private Map<String, Integer> vocab(JsonNode node) {
        Map<String, Integer> vocab = new HashMap<>(node.size() * 2);
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> e = fields.next();
            JsonNode id = e.getValue();
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                throw json.error("model.vocab", "expected a non-negative integer id for token \"" + e.getKey()
                        + "\", found " + JsonFields.describe(id));
            }
            vocab.put(e.getKey(), id.asInt());
        }
        if (vocab.isEmpty()) {
            throw json.error("model.vocab", "expected a non-empty object of token -> id");
        }
        return vocab;
    }

    /** Reads merges written as {@code "a b"} strings or as {@code ["a", "b"]} pairs. */
    private MergeTable merges(JsonNode array, Map<String, Integer> vocab, String prefix) {
        int n = array.size();
        int[] lefts = new int[n];
        int[] rights = new int[n];
        int[] newIds = new int[n];
        for (int rank = 0; rank < n; rank++) {
            JsonNode merge = array.get(rank);
            String at = "model.merges[" + rank + "]";
            String a;
            String b;
            if (merge.isTextual()) {
                String s = merge.asText();
                int space = s.indexOf(' ');
                if (space < 0 || s.indexOf(' ', space + 1) >= 0) {
                    throw json.error(at, "expected \"left right\" (two tokens separated by one space), found \""
                            + s + "\"");
                }
                a = s.substring(0, space);
                b = s.substring(space + 1);
            } else if (merge.isArray() && merge.size() == 2 && merge.get(0).isTextual()
                    && merge.get(1).isTextual()) {
                a = merge.get(0).asText();
                b = merge.get(1).asText();
            } else {
                throw json.error(at, "expected \"left right\" or [\"left\", \"right\"], found "
                        + JsonFields.describe(merge));
            }
            String merged = a + (prefix != null && b.startsWith(prefix) ? b.substring(prefix.length()) : b);
            lefts[rank] = vocabId(vocab, a, at);
            rights[rank] = vocabId(vocab, b, at);
            newIds[rank] = vocabId(vocab, merged, at);
        }
        return new MergeTable(lefts, rights, newIds);
    }

    private int vocabId(Map<String, Integer> vocab, String token, String at) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw json.error(at, "expected tokens of model.vocab, but \"" + token + "\" is not in it");
        }
        return id;
    }

    private List<AddedToken> addedTokens(JsonNode root) {
        JsonNode array = root.get("added_tokens");
        if (array == null || array.isNull()) {
            return List.of();
        }
        if (!array.isArray()) {
            throw json.error("added_tokens", "expected an array, found " + JsonFields.describe(array));
        }
        List<AddedToken> tokens = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonNode t = array.get(i);
            String at = "added_tokens[" + i + "]";
            if (!t.isObject()) {
                throw json.error(at, "expected an object, found " + JsonFields.describe(t));
            }
            tokens.add(new AddedToken(json.nonNegativeInt(t, "id", at), json.string(t, "content", at),
                    json.optBoolean(t, "special", at, false), json.optBoolean(t, "single_word", at, false),
                    json.optBoolean(t, "lstrip", at, false), json.optBoolean(t, "rstrip", at, false),
                    json.optBoolean(t, "normalized", at, false)));
        }
        return tokens;
    }
}
