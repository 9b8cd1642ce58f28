package dev.mor4j.llama.data;

import dev.mor4j.core.TestData;
import dev.mor4j.llama.tokenizer.Tokenizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * {@link TuluEncoder} counts the tokens of each prefix from one {@code PrefixEncoder} over the conversation; it
 * must give exactly what open-instruct's definition, written out here straightforwardly (every prefix text
 * tokenized from the start), gives: on the bundled sample and on conversations made to probe the boundaries,
 * with both bundled tokenizers and at several maximum lengths.
 */
class TuluEncoderReferenceTest {

    private static final Path TESTDATA = TestData.root();
    private static final int[] MAX_LENGTHS = {1, 2, 3, 7, 24, 40, 64, 1024};

    @ParameterizedTest
    @ValueSource(strings = {"sp-bpe-32k", "llama3"})
    void sameAsTokenizingEveryPrefix(String name) {
        Tokenizer tokenizer = Tokenizer.load(TESTDATA.resolve("tokenizers").resolve(name));
        List<Conversation> conversations = new ArrayList<>(
                TuluReader.readAll(TESTDATA.resolve("tulu/tulu_v2_sample.jsonl"), new ArrayList<>()));
        conversations.addAll(probes(tokenizer.eosToken().orElseThrow()));
        for (int maxLength : MAX_LENGTHS) {
            TuluEncoder encoder = new TuluEncoder(tokenizer, maxLength);
            for (Conversation c : conversations) {
                EncodedExample expected = reference(tokenizer, encoder, c, maxLength);
                EncodedExample actual = encoder.encode(c);
                String where = name + " @ " + maxLength + ": " + c.id();
                assertArrayEquals(expected.inputIds(), actual.inputIds(), where + " input_ids");
                assertArrayEquals(expected.labels(), actual.labels(), where + " labels");
            }
        }
    }

    /** Empty and whitespace contents, EOS text inside contents, trailing user turns, emoji, runs of turns. */
    private static List<Conversation> probes(String eos) {
        Message u = new Message(Role.USER, "Hi there, what's 2+2?");
        Message a = new Message(Role.ASSISTANT, "4.");
        return List.of(
                conversation("trailing-user", u, a, new Message(Role.USER, "And 3+3?")),
                conversation("empty-contents", new Message(Role.USER, ""), new Message(Role.ASSISTANT, ""),
                        new Message(Role.USER, " \n "), new Message(Role.ASSISTANT, "\n")),
                conversation("eos-in-text", new Message(Role.USER, "say " + eos + " twice" + eos),
                        new Message(Role.ASSISTANT, eos + eos), u, a),
                conversation("system-user-user", new Message(Role.SYSTEM, "Be brief 😀."), u,
                        new Message(Role.USER, "Well?\n\n"), a, new Message(Role.ASSISTANT, "Sure: 😀😀")),
                conversation("assistant-first", a, u, a, u, a, u, a),
                conversation("only-user", u),
                conversation("newlines", new Message(Role.USER, "line\n\n\nline\r\n"),
                        new Message(Role.ASSISTANT, "a\n  b\t\n"), new Message(Role.USER, "<|user|>"),
                        new Message(Role.ASSISTANT, "<|assistant|>\n")));
    }

    private static Conversation conversation(String id, Message... messages) {
        return new Conversation(id, "probe", List.of(messages));
    }

    /** open-instruct's {@code encode_with_messages_format}: each label boundary from a prefix tokenized anew. */
    private static EncodedExample reference(Tokenizer tokenizer, TuluEncoder encoder, Conversation c, int maxLength) {
        List<Message> messages = c.messages();
        int[] full = tokenizer.encode(PythonStrings.strip(encoder.format(messages)), true);
        int[] inputIds = Arrays.copyOf(full, Math.min(full.length, maxLength));
        int[] labels = inputIds.clone();
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).role() == Role.ASSISTANT) {
                continue;
            }
            int start = i == 0 ? 0
                    : Math.min(tokenizer.encode(encoder.format(messages.subList(0, i)), true).length, maxLength);
            String through = encoder.format(messages.subList(0, i + 1));
            if (i + 1 < messages.size() && messages.get(i + 1).role() == Role.ASSISTANT) {
                through += "<|assistant|>\n";
            }
            int end = Math.min(tokenizer.encode(through, true).length, maxLength);
            int from = Math.min(start, labels.length);
            int to = Math.min(end, labels.length);
            if (from < to) {
                Arrays.fill(labels, from, to, TuluEncoder.IGNORE_INDEX);
            }
            if (end >= maxLength) {
                break;
            }
        }
        return new EncodedExample(c.id(), c.dataset(), inputIds, labels);
    }
}
