package dev.mor4j.llama.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code ByteFallback} decoder: runs of {@code <0xXX>} tokens become the text of their bytes. A run that is
 * not valid UTF-8 becomes one U+FFFD per byte, exactly as in the reference implementation.
 */
record ByteFallbackDecoder() implements Decoder {

    @Override
    public List<String> decodeChain(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String token : tokens) {
            int b = byteOf(token);
            if (b >= 0) {
                bytes.write(b);
                continue;
            }
            flush(bytes, out);
            out.add(token);
        }
        flush(bytes, out);
        return out;
    }

    private static void flush(ByteArrayOutputStream bytes, List<String> out) {
        if (bytes.size() == 0) {
            return;
        }
        byte[] run = bytes.toByteArray();
        bytes.reset();
        try {
            out.add(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(run)).toString());
        } catch (CharacterCodingException e) {
            for (int i = 0; i < run.length; i++) {
                out.add("\uFFFD");
            }
        }
    }

    /**
     * The byte of a {@code <0xXX>} token, or -1. Mirrors the reference check: six bytes, {@code <0x} prefix,
     * {@code >} suffix, and the two middle characters parsed as a hexadecimal {@code u8}.
     */
    static int byteOf(String token) {
        if (token.length() != 6 || !token.startsWith("<0x") || !token.endsWith(">")) {
            return -1;
        }
        String hex = token.substring(3, 5);
        if (hex.charAt(0) == '+') {
            hex = hex.substring(1);
        }
        for (int i = 0; i < hex.length(); i++) {
            if (Character.digit(hex.charAt(i), 16) < 0 || hex.charAt(i) > 'f') {
                return -1;
            }
        }
        return Integer.parseInt(hex, 16);
    }
}
