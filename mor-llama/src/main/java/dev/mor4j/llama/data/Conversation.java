package dev.mor4j.llama.data;

import java.util.List;
import java.util.Objects;

/**
 * One record of a Tulu-v2 SFT file: a conversation of system, user and assistant turns.
 *
 * @param id       the record's {@code id}
 * @param dataset  the source dataset of the mixture ({@code dataset}), or {@code ""} when the file has none
 * @param messages the turns, in order; never empty
 */
public record Conversation(String id, String dataset, List<Message> messages) {

    public Conversation {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(dataset, "dataset");
        messages = List.copyOf(messages);
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("conversation " + id + " has no messages");
        }
    }
}
