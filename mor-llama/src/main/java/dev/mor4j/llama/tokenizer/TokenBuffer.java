package dev.mor4j.llama.tokenizer;

import java.util.ArrayList;
import java.util.List;

/** The tokens produced by an encoding so far: ids and their token strings, in order. */
final class TokenBuffer {

    private final IntList ids;
    private final List<String> tokens;

    TokenBuffer(int capacity) {
        ids = new IntList(capacity);
        tokens = new ArrayList<>(capacity);
    }

    void add(int id, String token) {
        ids.add(id);
        tokens.add(token);
    }

    void addAll(TokenBuffer other) {
        for (int i = 0; i < other.size(); i++) {
            add(other.ids.get(i), other.tokens.get(i));
        }
    }

    int size() {
        return ids.size();
    }

    int[] ids() {
        return ids.toArray();
    }

    List<String> tokens() {
        return tokens;
    }
}
