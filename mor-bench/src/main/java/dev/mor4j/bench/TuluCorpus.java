package dev.mor4j.bench;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.data.TuluReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A Tulu-v2 file repeated to a given size, for throughput measurements: its conversations, and their training
 * texts (what {@link TuluEncoder} tokenizes: role headers, stripped contents, EOS after each answer, the whole
 * stripped), each list the file's entries over and over until their UTF-8 text reaches the size.
 *
 * @param conversations the conversations, repeated
 * @param texts         their training texts, in the same order
 * @param bytes         the UTF-8 size of {@code texts} together
 */
record TuluCorpus(List<Conversation> conversations, List<String> texts, long bytes) {

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

    /** Size in megabytes (10^6 bytes) of the UTF-8 text. */
    double megabytes() {
        return bytes / 1e6;
    }
}
