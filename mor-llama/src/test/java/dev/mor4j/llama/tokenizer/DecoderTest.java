package dev.mor4j.llama.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DecoderTest {

    @Test
    void byteFallbackJoinsValidRunsAndReplacesInvalidBytesOneByOne() {
        ByteFallbackDecoder d = new ByteFallbackDecoder();
        assertEquals(List.of("a", "é", "b"), d.decodeChain(List.of("a", "<0xC3>", "<0xA9>", "b")));
        assertEquals(List.of("\uFFFD", "\uFFFD", "x"), d.decodeChain(List.of("<0xE2>", "<0x84>", "x")));
        assertEquals(List.of("<0xZZ>", "<0x0A"), d.decodeChain(List.of("<0xZZ>", "<0x0A")));
    }

    @Test
    void byteLevelMapsCharactersBackToBytes() {
        ByteLevelDecoder d = new ByteLevelDecoder();
        assertEquals(List.of(" héllo\n"), d.decodeChain(List.of("Ġh", "Ã©", "llo", "Ċ")));
        // a token with characters outside the alphabet contributes its own UTF-8
        assertEquals(List.of("<|eot_id|>€"), d.decodeChain(List.of("<|eot_id|>", "â", "Ĥ¬")));
    }

    @Test
    void stripAndMetaspace() {
        assertEquals(List.of(" a ", "b"), new Decoder.Strip(' ', 1, 0).decodeChain(List.of("  a ", "b")));
        assertEquals(List.of("a", " b"), new Decoder.Strip(' ', 0, 2).decodeChain(List.of("a  ", " b")));
        Decoder.Metaspace meta = new Decoder.Metaspace('▁', MetaspacePreTokenizer.PrependScheme.ALWAYS);
        assertEquals(List.of("hi", " there"), meta.decodeChain(List.of("▁hi", "▁there")));
    }

    @Test
    void byteLevelAlphabetIsABijection() {
        java.util.Set<Character> seen = new java.util.HashSet<>();
        for (int b = 0; b < 256; b++) {
            char c = ByteLevelAlphabet.charOf(b);
            assertEquals(b, ByteLevelAlphabet.byteOf(c));
            seen.add(c);
        }
        assertEquals(256, seen.size());
        assertEquals('Ġ', ByteLevelAlphabet.charOf(' '));
        assertEquals('Ċ', ByteLevelAlphabet.charOf('\n'));
    }
}
