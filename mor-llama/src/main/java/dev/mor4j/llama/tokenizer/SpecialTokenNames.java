package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.core.MorException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The BOS and EOS tokens of a tokenizer, which {@code tokenizer.json} itself does not name. They are read from
 * {@code bos_token}/{@code eos_token} of the {@code tokenizer_config.json} next to it when there is one. Without
 * it, BOS is the special token a {@code TemplateProcessing} post-processor puts first, and EOS the first special
 * added token among the usual names ({@code </s>}, {@code <|end_of_text|>}, {@code <|endoftext|>}, {@code <eos>}).
 *
 * @param bos the BOS token text, or null when unknown
 * @param eos the EOS token text, or null when unknown
 */
record SpecialTokenNames(String bos, String eos) {

    static final String CONFIG_FILE = "tokenizer_config.json";
    private static final List<String> USUAL_EOS = List.of("</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>");

    static SpecialTokenNames find(Path tokenizerJson, AddedVocabulary added, PostProcessor postProcessor) {
        Path config = tokenizerJson.resolveSibling(CONFIG_FILE);
        if (Files.isRegularFile(config)) {
            JsonNode root = TokenizerJson.parse(config);
            return new SpecialTokenNames(name(root, "bos_token", config), name(root, "eos_token", config));
        }
        String bos = null;
        if (postProcessor instanceof PostProcessor.Template t && t.before().size() > 0) {
            bos = t.before().tokens().get(0);
        }
        String eos = null;
        for (String candidate : USUAL_EOS) {
            AddedToken token = added.byContent(candidate);
            if (token != null && token.special()) {
                eos = candidate;
                break;
            }
        }
        return new SpecialTokenNames(bos, eos);
    }

    /** A token given as a string or as an object with a {@code content} string; null when absent or null. */
    private static String name(JsonNode root, String key, Path config) {
        JsonNode node = root.get(key);
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isObject() && node.path("content").isTextual()) {
            return node.get("content").asText();
        }
        throw new MorException(config + ": " + key + ": expected a string, an object with a \"content\" string, "
                + "or null, found " + JsonFields.describe(node));
    }
}
