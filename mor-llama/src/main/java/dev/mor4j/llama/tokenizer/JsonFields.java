package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.core.MorException;

import java.nio.file.Path;

/**
 * Typed access to the fields of a parsed {@code tokenizer.json}, failing with a {@link MorException} that names
 * the file, the JSON path of the offending field and what was expected there.
 */
final class JsonFields {

    private final Path file;

    JsonFields(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    /** An error about {@code where} (a JSON path such as {@code model.vocab}) in this file. */
    MorException error(String where, String message) {
        return new MorException(file + ": " + where + ": " + message);
    }

    /** The component at {@code where} uses something this implementation does not support. */
    MorException unsupported(String where, String what) {
        return new MorException(file + ": " + where + ": unsupported " + what);
    }

    /** A required object field. */
    JsonNode object(JsonNode parent, String key, String where) {
        JsonNode node = parent.get(key);
        if (node == null || !node.isObject()) {
            throw error(join(where, key), "expected an object, found " + describe(node));
        }
        return node;
    }

    /** A required array field. */
    JsonNode array(JsonNode parent, String key, String where) {
        JsonNode node = parent.get(key);
        if (node == null || !node.isArray()) {
            throw error(join(where, key), "expected an array, found " + describe(node));
        }
        return node;
    }

    /** A required string field. */
    String string(JsonNode parent, String key, String where) {
        JsonNode node = parent.get(key);
        if (node == null || !node.isTextual()) {
            throw error(join(where, key), "expected a string, found " + describe(node));
        }
        return node.asText();
    }

    /** An optional string field: {@code fallback} when absent or null. */
    String optString(JsonNode parent, String key, String where, String fallback) {
        JsonNode node = parent.get(key);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isTextual()) {
            throw error(join(where, key), "expected a string or null, found " + describe(node));
        }
        return node.asText();
    }

    /** An optional boolean field: {@code fallback} when absent or null. */
    boolean optBoolean(JsonNode parent, String key, String where, boolean fallback) {
        JsonNode node = parent.get(key);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isBoolean()) {
            throw error(join(where, key), "expected true or false, found " + describe(node));
        }
        return node.asBoolean();
    }

    /** A required non-negative integer field. */
    int nonNegativeInt(JsonNode parent, String key, String where) {
        JsonNode node = parent.get(key);
        if (node == null || !node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < 0) {
            throw error(join(where, key), "expected a non-negative integer, found " + describe(node));
        }
        return node.asInt();
    }

    /** An optional non-negative integer field: {@code fallback} when absent or null. */
    int optNonNegativeInt(JsonNode parent, String key, String where, int fallback) {
        JsonNode node = parent.get(key);
        if (node == null || node.isNull()) {
            return fallback;
        }
        return nonNegativeInt(parent, key, where);
    }

    /** The {@code type} of a component object, e.g. {@code "Sequence"}. */
    String type(JsonNode component, String where) {
        if (!component.isObject()) {
            throw error(where, "expected an object with a \"type\", found " + describe(component));
        }
        return string(component, "type", where);
    }

    static String join(String where, String key) {
        return where.isEmpty() ? key : where + "." + key;
    }

    static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "nothing";
        }
        String text = node.toString();
        String kind = node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        return kind + " " + (text.length() > 60 ? text.substring(0, 57) + "..." : text);
    }
}
