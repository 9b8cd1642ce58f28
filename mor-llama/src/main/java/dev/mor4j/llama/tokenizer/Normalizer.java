package dev.mor4j.llama.tokenizer;

import java.util.List;

/**
 * A {@code normalizer} of a {@code tokenizer.json}: rewrites each piece of input text (the text between added
 * tokens) before pre-tokenization. Only the output text matters here (offsets are not tracked).
 */
interface Normalizer {

    /** Leaves the text as it is (a {@code null} normalizer). */
    Normalizer IDENTITY = text -> text;

    String normalize(String text);

    /** {@code Sequence}: the normalizers one after the other. */
    record Sequence(List<Normalizer> normalizers) implements Normalizer {
        @Override
        public String normalize(String text) {
            String out = text;
            for (Normalizer n : normalizers) {
                out = n.normalize(out);
            }
            return out;
        }
    }

    /** {@code Prepend}: puts a string in front of non-empty text (SentencePiece's leading {@code ▁}). */
    record Prepend(String prefix) implements Normalizer {
        @Override
        public String normalize(String text) {
            return text.isEmpty() ? text : prefix + text;
        }
    }

    /** {@code Replace}: replaces every match of a pattern by a string. */
    record Replace(TextPattern pattern, String content) implements Normalizer {
        @Override
        public String normalize(String text) {
            return pattern.replaceAll(text, content);
        }
    }

    /** {@code NFC}, {@code NFD}, {@code NFKC}, {@code NFKD}: Unicode normalization forms. */
    record Unicode(java.text.Normalizer.Form form) implements Normalizer {
        @Override
        public String normalize(String text) {
            return java.text.Normalizer.normalize(text, form);
        }
    }
}
