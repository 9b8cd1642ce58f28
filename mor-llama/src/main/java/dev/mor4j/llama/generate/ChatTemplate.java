package dev.mor4j.llama.generate;

import dev.mor4j.llama.data.Message;
import dev.mor4j.llama.data.Role;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.util.List;

/**
 * The Tulu chat format that Tulu-v2 training uses, for generation: the conversation formatted exactly as
 * {@link TuluEncoder#format} formats training text (each content stripped as Python strips, assistant turns
 * ending with EOS), followed by the assistant header {@code <|assistant|>\n}. One user prompt becomes
 * {@code <|user|>\n{prompt}\n<|assistant|>\n}, open-instruct's {@code create_prompt_with_tulu_chat_format};
 * the tokenizer then adds BOS.
 */
public final class ChatTemplate {

    /** What the model continues after a conversation. */
    public static final String ASSISTANT_HEADER = "<|assistant|>\n";

    private ChatTemplate() {
    }

    /** The text the model continues for one user prompt. */
    public static String tulu(Tokenizer tokenizer, String prompt) {
        return tulu(tokenizer, List.of(new Message(Role.USER, prompt)));
    }

    /**
     * The text the model continues after a conversation.
     *
     * @param tokenizer supplies the EOS token that ends assistant turns
     * @throws dev.mor4j.core.MorException when the tokenizer's EOS token is unknown
     */
    public static String tulu(Tokenizer tokenizer, List<Message> messages) {
        return new TuluEncoder(tokenizer, 1).format(messages) + ASSISTANT_HEADER;
    }
}
