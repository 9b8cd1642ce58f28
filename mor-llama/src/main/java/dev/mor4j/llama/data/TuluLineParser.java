package dev.mor4j.llama.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses and validates one line of a Tulu-v2 SFT JSONL file: a JSON object with a string {@code id}, an optional
 * string {@code dataset}, and a non-empty array {@code messages} of {@code {role, content}} objects whose roles are
 * {@code system}, {@code user} or {@code assistant}, whose contents are strings, and among which at least one is
 * an assistant turn (otherwise there is nothing to train on).
 */
final class TuluLineParser {

    /** A line that is not a usable conversation. */
    static final class Defect extends Exception {
        Defect(String reason) {
            super(reason, null, false, false);
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private TuluLineParser() {
    }

    static Conversation parse(String line) throws Defect {
        if (line.isBlank()) {
            throw new Defect("blank line");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(line);
        } catch (JsonEOFException e) {
            throw new Defect("truncated JSON: " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new Defect("not valid JSON: " + e.getOriginalMessage());
        }
        if (!root.isObject()) {
            throw new Defect("expected a JSON object, found " + kind(root));
        }
        String id = string(root, "id", true);
        String dataset = string(root, "dataset", false);
        return new Conversation(id, dataset == null ? "" : dataset, messages(root));
    }

    private static List<Message> messages(JsonNode root) throws Defect {
        JsonNode messages = root.get("messages");
        if (messages == null || messages.isNull()) {
            throw new Defect("missing \"messages\" (expected a non-empty array of {role, content})");
        }
        if (!messages.isArray()) {
            throw new Defect("\"messages\" is " + kind(messages) + ", expected an array of {role, content}");
        }
        if (messages.isEmpty()) {
            throw new Defect("\"messages\" is empty");
        }
        List<Message> out = new ArrayList<>(messages.size());
        boolean hasAssistant = false;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String at = "messages[" + i + "]";
            if (!m.isObject()) {
                throw new Defect(at + " is " + kind(m) + ", expected an object {role, content}");
            }
            JsonNode roleNode = m.get("role");
            if (roleNode == null || !roleNode.isTextual()) {
                throw new Defect(at + ".role is " + kind(roleNode) + ", expected \"system\", \"user\" or "
                        + "\"assistant\"");
            }
            Role role = Role.fromWireName(roleNode.asText());
            if (role == null) {
                throw new Defect(at + ".role \"" + roleNode.asText() + "\" is unknown, expected \"system\", "
                        + "\"user\" or \"assistant\"");
            }
            JsonNode content = m.get("content");
            if (content == null || !content.isTextual()) {
                throw new Defect(at + ".content is " + kind(content) + ", expected a string");
            }
            hasAssistant |= role == Role.ASSISTANT;
            out.add(new Message(role, content.asText()));
        }
        if (!hasAssistant) {
            throw new Defect("no assistant message, so nothing to train on");
        }
        return out;
    }

    private static String string(JsonNode root, String key, boolean required) throws Defect {
        JsonNode node = root.get(key);
        if (node == null || node.isNull()) {
            if (required) {
                throw new Defect("missing \"" + key + "\" (expected a string)");
            }
            return null;
        }
        if (!node.isTextual()) {
            throw new Defect("\"" + key + "\" is " + kind(node) + ", expected a string");
        }
        return node.asText();
    }

    private static String kind(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "missing";
        }
        String text = node.toString();
        String type = node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        return "a " + type + " (" + (text.length() > 40 ? text.substring(0, 37) + "..." : text) + ")";
    }
}
