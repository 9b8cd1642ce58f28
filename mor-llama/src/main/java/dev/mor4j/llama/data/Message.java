package dev.mor4j.llama.data;

import java.util.Objects;

/**
 * One turn of a conversation.
 *
 * @param role    who speaks
 * @param content what is said, as in the file (not stripped)
 */
public record Message(Role role, String content) {

    public Message {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }
}
