package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the normalizer, pre-tokenizer, decoder and post-processor of a {@code tokenizer.json}. A component type
 * or option this implementation does not reproduce is refused with a {@link dev.mor4j.core.MorException} naming
 * the file, the JSON path and the type, rather than silently tokenizing differently from the reference.
 */
final class ComponentParser {

    static final String NORMALIZERS = "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD";
    static final String PRE_TOKENIZERS = "Sequence, Split, ByteLevel, Metaspace";
    static final String DECODERS = "Sequence, Replace, ByteFallback, Fuse, Strip, ByteLevel, Metaspace";
    static final String POST_PROCESSORS = "TemplateProcessing, ByteLevel, Sequence";

    private final JsonFields json;

    ComponentParser(JsonFields json) {
        this.json = json;
    }

    Normalizer normalizer(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return Normalizer.IDENTITY;
        }
        String type = json.type(node, where);
        return switch (type) {
            case "Sequence" -> new Normalizer.Sequence(list(node, "normalizers", where, this::normalizer));
            case "Prepend" -> new Normalizer.Prepend(json.string(node, "prepend", where));
            case "Replace" -> new Normalizer.Replace(pattern(node, where), json.string(node, "content", where));
            case "NFC" -> new Normalizer.Unicode(Form.NFC);
            case "NFD" -> new Normalizer.Unicode(Form.NFD);
            case "NFKC" -> new Normalizer.Unicode(Form.NFKC);
            case "NFKD" -> new Normalizer.Unicode(Form.NFKD);
            default -> throw json.unsupported(where, "normalizer type \"" + type + "\" (supported: " + NORMALIZERS
                    + ")");
        };
    }

    PreTokenizer preTokenizer(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return PreTokenizer.NONE;
        }
        String type = json.type(node, where);
        return switch (type) {
            case "Sequence" -> new PreTokenizer.Sequence(list(node, "pretokenizers", where, this::preTokenizer));
            case "Split" -> {
                String behaviorName = json.string(node, "behavior", where);
                SplitBehavior behavior = SplitBehavior.fromJson(behaviorName);
                if (behavior == null) {
                    throw json.unsupported(JsonFields.join(where, "behavior"), "split behavior \"" + behaviorName
                            + "\" (supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)");
                }
                yield new PreTokenizer.Split(pattern(node, where), behavior,
                        json.optBoolean(node, "invert", where, false));
            }
            case "ByteLevel" -> new ByteLevelPreTokenizer(json.optBoolean(node, "add_prefix_space", where, true),
                    json.optBoolean(node, "use_regex", where, true));
            case "Metaspace" -> new MetaspacePreTokenizer(replacementChar(node, where), prependScheme(node, where),
                    json.optBoolean(node, "split", where, true));
            default -> throw json.unsupported(where, "pre-tokenizer type \"" + type + "\" (supported: "
                    + PRE_TOKENIZERS + ")");
        };
    }

    Decoder decoder(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return Decoder.NONE;
        }
        String type = json.type(node, where);
        return switch (type) {
            case "Sequence" -> new Decoder.Sequence(list(node, "decoders", where, this::decoder));
            case "Replace" -> new Decoder.Replace(pattern(node, where), json.string(node, "content", where));
            case "ByteFallback" -> new ByteFallbackDecoder();
            case "Fuse" -> new Decoder.Fuse();
            case "Strip" -> new Decoder.Strip(singleChar(node, "content", where),
                    json.optNonNegativeInt(node, "start", where, 0), json.optNonNegativeInt(node, "stop", where, 0));
            case "ByteLevel" -> new ByteLevelDecoder();
            case "Metaspace" -> new Decoder.Metaspace(replacementChar(node, where).codePointAt(0),
                    prependScheme(node, where));
            default -> throw json.unsupported(where, "decoder type \"" + type + "\" (supported: " + DECODERS + ")");
        };
    }

    PostProcessor postProcessor(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return PostProcessor.NONE;
        }
        String type = json.type(node, where);
        return switch (type) {
            case "ByteLevel" -> PostProcessor.NONE;
            case "Sequence" -> new PostProcessor.Sequence(list(node, "processors", where,
                    this::postProcessor));
            case "TemplateProcessing" -> new TemplateParser(json).parse(node, where);
            default -> throw json.unsupported(where, "post-processor type \"" + type + "\" (supported: "
                    + POST_PROCESSORS + ")");
        };
    }

    private TextPattern pattern(JsonNode node, String where) {
        JsonNode pattern = json.object(node, "pattern", where);
        String at = JsonFields.join(where, "pattern");
        if (pattern.has("String")) {
            return TextPattern.literal(json.string(pattern, "String", at));
        }
        if (pattern.has("Regex")) {
            String regex = json.string(pattern, "Regex", at);
            try {
                return TextPattern.regex(regex);
            } catch (IllegalArgumentException e) {
                throw json.error(JsonFields.join(at, "Regex"), e.getMessage());
            }
        }
        throw json.error(at, "expected {\"String\": ...} or {\"Regex\": ...}, found " + JsonFields.describe(pattern));
    }

    private String replacementChar(JsonNode node, String where) {
        return new String(Character.toChars(singleChar(node, "replacement", where)));
    }

    private int singleChar(JsonNode node, String key, String where) {
        String s = json.string(node, key, where);
        if (s.codePointCount(0, s.length()) != 1) {
            throw json.error(JsonFields.join(where, key), "expected a single character, found \"" + s + "\"");
        }
        return s.codePointAt(0);
    }

    /** {@code prepend_scheme}, or the older boolean {@code add_prefix_space} (true: always). */
    private MetaspacePreTokenizer.PrependScheme prependScheme(JsonNode node, String where) {
        String name = json.optString(node, "prepend_scheme", where, null);
        if (name == null) {
            return json.optBoolean(node, "add_prefix_space", where, true)
                    ? MetaspacePreTokenizer.PrependScheme.ALWAYS : MetaspacePreTokenizer.PrependScheme.NEVER;
        }
        MetaspacePreTokenizer.PrependScheme scheme = MetaspacePreTokenizer.PrependScheme.fromJson(name);
        if (scheme == null) {
            throw json.unsupported(JsonFields.join(where, "prepend_scheme"), "prepend scheme \"" + name
                    + "\" (supported: always, first, never)");
        }
        return scheme;
    }

    private <T> List<T> list(JsonNode node, String key, String where, Parser<T> parser) {
        JsonNode array = json.array(node, key, where);
        List<T> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            out.add(parser.parse(array.get(i), JsonFields.join(where, key) + "[" + i + "]"));
        }
        return List.copyOf(out);
    }

    @FunctionalInterface
    private interface Parser<T> {
        T parse(JsonNode node, String where);
    }
}
