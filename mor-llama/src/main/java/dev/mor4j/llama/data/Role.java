package dev.mor4j.llama.data;

/** The author of a {@link Message} in a Tulu-v2 conversation. */
public enum Role {
    SYSTEM("system"),
    USER("user"),
    ASSISTANT("assistant");

    private final String wireName;

    Role(String wireName) {
        this.wireName = wireName;
    }

    /** The name used in the JSONL files, e.g. {@code "assistant"}. */
    public String wireName() {
        return wireName;
    }

    /** The role with this JSONL name, or null when there is none (names are case-sensitive, as in Tulu). */
    public static Role fromWireName(String name) {
        for (Role r : values()) {
            if (r.wireName.equals(name)) {
                return r;
            }
        }
        return null;
    }
}
