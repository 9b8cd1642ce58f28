package dev.mor4j.bench;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.Message;
import dev.mor4j.llama.data.Role;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.data.TuluReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A Tulu-v2 file repeated to a given size, or random conversations ({@link #random}), for throughput
 * measurements: its conversations, and their training
 * texts (what {@link TuluEncoder} tokenizes: role headers, stripped contents, EOS after each answer, the whole
 * stripped), each list the file's entries over and over until their UTF-8 text reaches the size.
 *
 * @param conversations the conversations, repeated
 * @param texts         their training texts, in the same order
 * @param bytes         the UTF-8 size of {@code texts} together
 */
record TuluCorpus(List<Conversation> conversations, List<String> texts, long bytes) {

    private static final String PUNCTUATION = ".,;:!?'\"()-";

    /**
     * Reads {@code file} and repeats it to at least {@code minBytes} of training text.
     *
     * @param encoder gives the training text of a conversation (it depends on the tokenizer's EOS)
     * @throws MorException when the file has no conversations
     */
    static TuluCorpus repeat(Path file, TuluEncoder encoder, long minBytes) {
        List<Conversation> once = TuluReader.readAll(file, new ArrayList<>());
        if (once.isEmpty()) {
            throw new MorException(file + ": no conversations to repeat");
        }
        List<String> onceTexts = new ArrayList<>(once.size());
        long onceBytes = 0;
        for (Conversation c : once) {
            String text = encoder.text(c.messages());
            onceTexts.add(text);
            onceBytes += text.getBytes(StandardCharsets.UTF_8).length;
        }
        int copies = (int) Math.max(1, (minBytes + onceBytes - 1) / onceBytes);
        List<Conversation> conversations = new ArrayList<>(copies * once.size());
        List<String> texts = new ArrayList<>(copies * once.size());
        for (int i = 0; i < copies; i++) {
            conversations.addAll(once);
            texts.addAll(onceTexts);
        }
        return new TuluCorpus(Collections.unmodifiableList(conversations), Collections.unmodifiableList(texts),
                copies * onceBytes);
    }

    /**
     * Conversations of random text, none repeated, to at least {@code minBytes} of training text: a user and an
     * assistant turn of 150 code points each, drawn from Latin and Cyrillic letters, CJK ideographs, emoji,
     * digits and punctuation, with a space before about one character in five. Its words rarely repeat, so
     * the tokenizers' word caches rarely hit and the merges run.
     */
    static TuluCorpus random(TuluEncoder encoder, long minBytes, long seed) {
        Random random = new Random(seed);
        List<Conversation> conversations = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        long bytes = 0;
        for (int n = 0; bytes < minBytes; n++) {
            Conversation c = new Conversation("random_" + n, "random", List.of(
                    new Message(Role.USER, randomText(random, 150)),
                    new Message(Role.ASSISTANT, randomText(random, 150))));
            String text = encoder.text(c.messages());
            conversations.add(c);
            texts.add(text);
            bytes += text.getBytes(StandardCharsets.UTF_8).length;
        }
        return new TuluCorpus(Collections.unmodifiableList(conversations), Collections.unmodifiableList(texts),
                bytes);
    }

    private static String randomText(Random random, int codePoints) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < codePoints; i++) {
            int kind = random.nextInt(12);
            int cp = switch (kind) {
                case 0 -> 0x4E00 + random.nextInt(0x5000);
                case 1 -> 0x1F600 + random.nextInt(0x50);
                case 2, 3 -> 0x0430 + random.nextInt(0x20);
                case 4 -> '0' + random.nextInt(10);
                case 5 -> PUNCTUATION.charAt(random.nextInt(PUNCTUATION.length()));
                default -> 'a' + random.nextInt(26);
            };
            if (random.nextInt(5) == 0) {
                sb.append(' ');
            }
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    /** Size in megabytes (10^6 bytes) of the UTF-8 text. */
    double megabytes() {
        return bytes / 1e6;
    }
}
