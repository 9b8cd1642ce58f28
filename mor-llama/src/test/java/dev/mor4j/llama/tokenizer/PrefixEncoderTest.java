package dev.mor4j.llama.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link PrefixEncoder} must give, for every prefix end, exactly what encoding the prefix alone gives. */
class PrefixEncoderTest {

    @TempDir
    Path dir;

    @Test
    void spBpe32kPrefixesAreEncodedAsAlone() {
        checkAllPrefixes(TokenizerCache.get("sp-bpe-32k"), new String[] {"The", " cat", " sat", ".", "\n", " ",
                "<s>", "</s>", "</s", "<unk>", "<|user|>\n", "<|assistant|>\n", "é", "😀", "你好", "  ", "'s"}, 1);
    }

    @Test
    void llama3PrefixesAreEncodedAsAlone() {
        checkAllPrefixes(TokenizerCache.get("llama3"), new String[] {"The", " cat", " sat", ".", "\n", " ",
                "<|begin_of_text|>", "<|end_of_text|>", "<|end_of", "<|eot_id|>", "<|user|>\n", "123456", "é",
                "😀", "你好", "  ", "'s", "\r\n", "\t"}, 2);
    }

    /**
     * LLaMA-3 prefixes that end inside a piece reuse its pre-tokens: prefix ends next to apostrophes, inside
     * whitespace runs before words and line breaks, inside numbers, letters, emoji and punctuation runs.
     */
    @Test
    void llama3PiecesAreResumedExactly() {
        checkAllPrefixes(TokenizerCache.get("llama3"), new String[] {"'", "'r", "e", "l", "s", "x", " ", "  ",
                "\t", "\n", "\r", "\u00a0", "1", "23", ".", "!", "😀", "\uD83D", "é", "<|eot_id|>"}, 4, 300);
    }

    /** Added tokens that strip whitespace, must stand alone as words, or are prefixes of longer ones. */
    @Test
    void addedTokenRulesArePrefixSafe() throws IOException {
        String json = "{\"added_tokens\": ["
                + token(5, "[L]", "\"lstrip\": true") + ", " + token(6, "[R]", "\"rstrip\": true") + ", "
                + token(7, "[W]", "\"single_word\": true") + ", " + token(8, "<x>", "\"special\": true") + ", "
                + token(9, "<x>>", "\"special\": true") + "], \"normalizer\": null, \"pre_tokenizer\": null, "
                + "\"post_processor\": null, \"decoder\": null, \"model\": {\"type\": \"BPE\", \"unk_token\": "
                + "\"<unk>\", \"vocab\": {\"<unk>\": 0, \"a\": 1, \"b\": 2, \" \": 3, \"ab\": 4}, "
                + "\"merges\": [\"a b\"]}}";
        String[] pieces = {"a", "b", " ", "\n", "[L]", "[R]", "[W]", "<x>", "<x>>", ">", "𝐀", "😀", "é"};
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, json);
        checkAllPrefixes(Tokenizer.load(file), pieces, 3);
        // the same with LLaMA-3's pre-tokenizer, whose prefixes reuse pre-tokens (ResumablePieces)
        ObjectNode root = (ObjectNode) new ObjectMapper().readTree(json);
        root.set("pre_tokenizer", new ObjectMapper().readTree(Files.readString(TokenizerCache.dir("llama3")
                .resolve("tokenizer.json"))).get("pre_tokenizer"));
        ((ObjectNode) root.get("model")).put("ignore_merges", true);
        ((ObjectNode) root.get("model")).set("vocab", new ObjectMapper().readTree(
                "{\"<unk>\": 0, \"a\": 1, \"b\": 2, \"Ġ\": 3, \"ab\": 4, \"Ċ\": 10, \"Ġa\": 11}"));
        Files.writeString(file, root.toString());
        Tokenizer llama3Like = Tokenizer.load(file);
        assertTrue(llama3Like.piecesResumable() && !llama3Like.keepsEveryAddedTokenMatch());
        checkAllPrefixes(llama3Like, pieces, 5, 100);
    }

    @Test
    void endOutsideTheTextIsRefused() {
        PrefixEncoder p = TokenizerCache.get("sp-bpe-32k").prefixEncoder("abc", true);
        assertThrows(IndexOutOfBoundsException.class, () -> p.count(4));
        assertThrows(IndexOutOfBoundsException.class, () -> p.encode(-1));
        assertArrayEquals(TokenizerCache.get("sp-bpe-32k").encode("", true), p.encode(0));
    }

    private static String token(int id, String content, String flag) {
        return "{\"id\": " + id + ", \"content\": \"" + content + "\", \"single_word\": false, \"lstrip\": false, "
                + "\"rstrip\": false, \"normalized\": false, \"special\": false, " + flag + "}";
    }

    private static void checkAllPrefixes(Tokenizer tokenizer, String[] pieces, long seed) {
        checkAllPrefixes(tokenizer, pieces, seed, 40);
    }

    /** Random texts of the given pieces; every prefix end, with and without special tokens. */
    private static void checkAllPrefixes(Tokenizer tokenizer, String[] pieces, long seed, int texts) {
        Random random = new Random(seed);
        for (int n = 0; n < texts; n++) {
            StringBuilder sb = new StringBuilder();
            int length = 1 + random.nextInt(24);
            for (int i = 0; i < length; i++) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            String text = sb.toString();
            for (boolean special : new boolean[] {true, false}) {
                PrefixEncoder prefixes = tokenizer.prefixEncoder(text, special);
                // ends in a scrambled order: the encoder tokenizes the whole text's pieces lazily
                int[] ends = new int[text.length() + 1];
                for (int i = 0; i < ends.length; i++) {
                    ends[i] = (int) ((i * 7919L) % ends.length);
                }
                for (int end : ends) {
                    int[] expected = tokenizer.encode(text.substring(0, end), special);
                    String where = "prefix " + end + " of \"" + text + "\"";
                    assertArrayEquals(expected, prefixes.encode(end), where);
                    assertEquals(expected.length, prefixes.count(end), where);
                }
            }
        }
    }
}
