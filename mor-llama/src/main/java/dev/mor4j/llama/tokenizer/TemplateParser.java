package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads a {@code TemplateProcessing} post-processor: the {@code single} template (special tokens around
 * {@code $A}) and the {@code special_tokens} it refers to, each of which may stand for several ids.
 */
final class TemplateParser {

    private final JsonFields json;

    TemplateParser(JsonFields json) {
        this.json = json;
    }

    PostProcessor.Template parse(JsonNode node, String where) {
        JsonNode single = json.array(node, "single", where);
        JsonNode specials = node.get("special_tokens");
        TokenBuffer before = new TokenBuffer(2);
        TokenBuffer after = new TokenBuffer(2);
        boolean seenSequence = false;
        for (int i = 0; i < single.size(); i++) {
            String at = where + ".single[" + i + "]";
            JsonNode piece = single.get(i);
            if (piece.has("Sequence")) {
                String id = json.string(piece.get("Sequence"), "id", at + ".Sequence");
                if (!id.equals("A") || seenSequence) {
                    throw json.unsupported(at, "single-sequence template piece $" + id
                            + " (expected $A exactly once)");
                }
                seenSequence = true;
            } else if (piece.has("SpecialToken")) {
                String name = json.string(piece.get("SpecialToken"), "id", at + ".SpecialToken");
                addSpecial(specials, name, where, seenSequence ? after : before);
            } else {
                throw json.error(at, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}, found "
                        + JsonFields.describe(piece));
            }
        }
        if (!seenSequence) {
            throw json.error(where + ".single", "template has no $A sequence");
        }
        return new PostProcessor.Template(before, after);
    }

    private void addSpecial(JsonNode specials, String name, String where, TokenBuffer out) {
        String at = where + ".special_tokens";
        if (specials == null || !specials.isObject() || !specials.has(name)) {
            throw json.error(at, "expected an entry for special token \"" + name + "\" used by the template");
        }
        JsonNode entry = specials.get(name);
        String entryAt = at + "." + name;
        JsonNode ids = json.array(entry, "ids", entryAt);
        JsonNode tokens = json.array(entry, "tokens", entryAt);
        if (ids.size() != tokens.size()) {
            throw json.error(entryAt, "expected as many ids as tokens, found " + ids.size() + " ids and "
                    + tokens.size() + " tokens");
        }
        for (int i = 0; i < ids.size(); i++) {
            JsonNode id = ids.get(i);
            JsonNode token = tokens.get(i);
            if (!id.isIntegralNumber() || id.asInt() < 0 || !token.isTextual()) {
                throw json.error(entryAt, "expected non-negative integer ids and string tokens");
            }
            out.add(id.asInt(), token.asText());
        }
    }
}
