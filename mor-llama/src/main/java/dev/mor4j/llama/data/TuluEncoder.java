package dev.mor4j.llama.data;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.tokenizer.PrefixEncoder;
import dev.mor4j.llama.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Encodes conversations exactly as allenai/open-instruct's {@code encode_with_messages_format} does for Tulu-v2
 * training.
 *
 * <p>The text is the concatenation, over the messages, of {@code <|system|>\n{content}\n},
 * {@code <|user|>\n{content}\n} and {@code <|assistant|>\n{content}{eos}\n} (each content stripped as Python
 * strips), the whole text stripped again, then tokenized with the tokenizer's special tokens (BOS) and cut to the
 * maximum sequence length. The labels are a copy of the ids in which every non-assistant message is masked with
 * {@link #IGNORE_INDEX}, from its start up to the end of the {@code <|assistant|>\n} header of the assistant turn
 * that follows it. As in open-instruct, span boundaries are token counts of prefix texts: a message starts at
 * {@code len(tokenize(messages before it))} and ends at {@code len(tokenize(messages through it
 * [+ "<|assistant|>\n"]))}, each tokenized with BOS, not stripped, and capped at the maximum length; masking stops
 * after a span that reaches the maximum length. These prefix texts are prefixes of the formatted conversation, and
 * their token counts come from one {@link PrefixEncoder} over it: the conversation is tokenized once, and for each
 * boundary only the text since the last EOS token before it again (at most the last user turn and the header
 * after it), instead of every prefix from the start.
 *
 * <p>An example can end up with every label masked (a long prompt cut before the answer). {@link #encode} returns
 * it; {@link #encodeAll} drops it and counts it in {@link EncodeStats}, as open-instruct filters such examples.
 */
public final class TuluEncoder {

    /** The label of positions excluded from the loss. */
    public static final int IGNORE_INDEX = -100;

    private static final String ASSISTANT_HEADER = "<|assistant|>\n";

    private final Tokenizer tokenizer;
    private final int maxSeqLength;
    private final String eos;

    /**
     * @param tokenizer    the model's tokenizer; it must know its EOS token
     * @param maxSeqLength the maximum number of tokens of an example, BOS included
     * @throws MorException when the tokenizer has no known EOS token
     */
    public TuluEncoder(Tokenizer tokenizer, int maxSeqLength) {
        if (maxSeqLength < 1) {
            throw new IllegalArgumentException("maxSeqLength must be at least 1, got " + maxSeqLength);
        }
        this.tokenizer = tokenizer;
        this.maxSeqLength = maxSeqLength;
        this.eos = tokenizer.eosToken().orElseThrow(() -> new MorException(tokenizer.source()
                + ": the EOS token is unknown (expected eos_token in the tokenizer_config.json beside it); "
                + "Tulu encoding ends each assistant turn with it"));
    }

    /** The maximum number of tokens of an example. */
    public int maxSeqLength() {
        return maxSeqLength;
    }

    /** Encodes one conversation; its labels may all be {@link #IGNORE_INDEX}. */
    public EncodedExample encode(Conversation conversation) {
        return encodeCounting(conversation, null);
    }

    /**
     * Encodes conversations lazily, dropping those with no label left to train on.
     *
     * @param stats receives the counts (encoded, truncated, dropped)
     */
    public Stream<EncodedExample> encodeAll(Stream<Conversation> conversations, EncodeStats stats) {
        return conversations.map(c -> encodeCounting(c, stats)).filter(e -> e.trainableTokens() > 0);
    }

    /**
     * The training text of a list of messages, before the final strip: the concatenation of the role headers and
     * stripped contents, each assistant turn ending with EOS.
     */
    public String format(List<Message> messages) {
        return format(messages, new int[messages.size()]);
    }

    /** {@link #format(List)}, with where each message's text ends in it written to {@code messageEnds}. */
    private String format(List<Message> messages, int[] messageEnds) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < messageEnds.length; i++) {
            Message m = messages.get(i);
            String content = PythonStrings.strip(m.content());
            switch (m.role()) {
                case SYSTEM -> sb.append("<|system|>\n").append(content).append('\n');
                case USER -> sb.append("<|user|>\n").append(content).append('\n');
                case ASSISTANT -> sb.append(ASSISTANT_HEADER).append(content).append(eos).append('\n');
                default -> throw new IllegalStateException("unknown role " + m.role());
            }
            messageEnds[i] = sb.length();
        }
        return sb.toString();
    }

    /** The text of an example as it is tokenized: {@link #format} of its messages, stripped as Python strips. */
    public String text(List<Message> messages) {
        return PythonStrings.strip(format(messages));
    }

    private EncodedExample encodeCounting(Conversation conversation, EncodeStats stats) {
        List<Message> messages = conversation.messages();
        int[] messageEnds = new int[messages.size()];
        String formatted = format(messages, messageEnds);
        PrefixEncoder prefixes = tokenizer.prefixEncoder(formatted, true);
        String text = PythonStrings.strip(formatted);
        int[] full = formatted.startsWith(text) ? prefixes.encode(text.length()) : tokenizer.encode(text, true);
        int[] inputIds = Arrays.copyOf(full, Math.min(full.length, maxSeqLength));
        int[] labels = inputIds.clone();
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).role() == Role.ASSISTANT) {
                continue;
            }
            // the formatted messages before i, and through i (with the header of an assistant turn after it),
            // are prefixes of the formatted conversation
            int start = i == 0 ? 0 : tokenCount(prefixes, messageEnds[i - 1]);
            int through = messageEnds[i];
            if (i + 1 < messages.size() && messages.get(i + 1).role() == Role.ASSISTANT) {
                through += ASSISTANT_HEADER.length();
            }
            int end = tokenCount(prefixes, through);
            // labels[start:end] = -100, with Python's clamping of slice bounds
            int from = Math.min(start, labels.length);
            int to = Math.min(end, labels.length);
            if (from < to) {
                Arrays.fill(labels, from, to, IGNORE_INDEX);
            }
            if (end >= maxSeqLength) {
                break;
            }
        }
        EncodedExample example = new EncodedExample(conversation.id(), conversation.dataset(), inputIds, labels);
        if (stats != null) {
            stats.record(example, full.length > maxSeqLength);
        }
        return example;
    }

    /** The number of tokens of a prefix of the formatted text tokenized with special tokens, capped. */
    private int tokenCount(PrefixEncoder prefixes, int prefixLength) {
        return Math.min(prefixes.count(prefixLength), maxSeqLength);
    }
}
