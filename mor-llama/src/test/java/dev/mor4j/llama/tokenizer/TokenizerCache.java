package dev.mor4j.llama.tokenizer;

import dev.mor4j.core.TestData;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Loads each bundled tokenizer once per test run (the LLaMA-3 one takes a moment). */
final class TokenizerCache {

    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    private TokenizerCache() {
    }

    /** The bundled tokenizer {@code testdata/tokenizers/<name>}. */
    static Tokenizer get(String name) {
        return LOADED.computeIfAbsent(name, n -> Tokenizer.load(dir(n)));
    }

    static Path dir(String name) {
        return TestData.root().resolve("tokenizers").resolve(name);
    }
}
