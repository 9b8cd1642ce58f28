package dev.mor4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the data bundled with mor4j lives (the tiny model, tokenizers, the Tulu sample): the directory of the
 * {@code mor.testdata} system property, else {@code <mor.home>/testdata} ({@code ./mor} sets {@code mor.home}
 * to the checkout), else {@code testdata} under the working directory.
 */
final class BundledData {

    private BundledData() {
    }

    static Path root() {
        String testdata = System.getProperty("mor.testdata");
        if (testdata != null) {
            return Path.of(testdata).toAbsolutePath().normalize();
        }
        String home = System.getProperty("mor.home");
        Path root = home != null ? Path.of(home).resolve("testdata") : Path.of("testdata");
        return root.toAbsolutePath().normalize();
    }

    /** The tiny random LLaMA (vocab 32000, hidden 32, 2 layers) in float32. */
    static Path tinyModel() {
        return root().resolve("models/tiny-llama-f32");
    }

    /** The SentencePiece-style 32k BPE tokenizer the tiny model's vocabulary matches. */
    static Path tinyTokenizer() {
        return root().resolve("tokenizers/sp-bpe-32k");
    }

    /** 16 Tulu-v2 conversations from 10 source datasets. */
    static Path tuluSample() {
        return root().resolve("tulu/tulu_v2_sample.jsonl");
    }

    /** True when {@code model} is one of the bundled tiny models (which ship without a tokenizer). */
    static boolean isBundledModel(Path model) {
        Path models = root().resolve("models");
        Path parent = model.toAbsolutePath().normalize().getParent();
        try {
            return parent != null && Files.isDirectory(models) && Files.isSameFile(parent, models);
        } catch (IOException e) {
            return false;
        }
    }
}
