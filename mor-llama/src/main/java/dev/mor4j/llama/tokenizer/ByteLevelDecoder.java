package dev.mor4j.llama.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The {@code ByteLevel} decoder: maps every character of every token back to its byte through
 * {@link ByteLevelAlphabet} and decodes the bytes as UTF-8, with U+FFFD for invalid sequences. A token containing
 * a character outside the alphabet (an added token such as {@code <|eot_id|>} written with other characters)
 * contributes its own UTF-8 bytes instead, as in the reference implementation.
 */
record ByteLevelDecoder() implements Decoder {

    @Override
    public List<String> decodeChain(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String token : tokens) {
            byte[] mapped = new byte[token.length()];
            int n = 0;
            boolean allMapped = true;
            for (int i = 0; i < token.length(); i++) {
                int b = Character.isSurrogate(token.charAt(i)) ? -1 : ByteLevelAlphabet.byteOf(token.charAt(i));
                if (b < 0) {
                    allMapped = false;
                    break;
                }
                mapped[n++] = (byte) b;
            }
            if (allMapped) {
                bytes.write(mapped, 0, n);
            } else {
                bytes.writeBytes(token.getBytes(StandardCharsets.UTF_8));
            }
        }
        return List.of(bytes.toString(StandardCharsets.UTF_8));
    }
}
