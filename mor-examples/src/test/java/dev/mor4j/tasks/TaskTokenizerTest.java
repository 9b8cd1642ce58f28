package dev.mor4j.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.Message;
import dev.mor4j.llama.data.Role;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.generate.ChatTemplate;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TaskTokenizerTest {

    @TempDir
    static Path dir;

    private static Benchmark.Splits splits;
    private static BpeTrainer.Vocabulary vocabulary;
    private static Tokenizer tok;

    @BeforeAll
    static void train() {
        splits = Benchmark.builder().seed(4).trainPerTask(200).testPerTask(50).pretrainPerOperation(200).build()
                .generate();
        vocabulary = TaskTokenizer.train(splits, 640, 10);
        TaskTokenizer.write(vocabulary, dir);
        tok = Tokenizer.load(dir);
    }

    @Test
    void loadsWithBosEosAndTheTrainedVocabulary() {
        assertEquals(BpeTrainer.RESERVED + vocabulary.tokens().size(), tok.vocabSize());
        assertTrue(tok.vocabSize() <= 640, "vocabulary " + tok.vocabSize());
        assertEquals(1, tok.bosId().getAsInt());
        assertEquals(2, tok.eosId().getAsInt());
        assertEquals("</s>", tok.eosToken().orElseThrow());
        assertEquals(3, tok.tokenId("<0x00>").getAsInt());
        assertEquals(258, tok.tokenId("<0xFF>").getAsInt());
        assertEquals(1, tok.encode("7", true)[0]);
    }

    @Test
    void everyGeneratedTextRoundTripsLosslessly() {
        List<String> texts = new ArrayList<>();
        splits.train().forEach(i -> texts.addAll(List.of(i.prompt(), i.answer(), BenchmarkFiles.chatContext(i.prompt())
                + i.answer())));
        splits.test().forEach(i -> texts.addAll(List.of(i.prompt(), i.answer(), BenchmarkFiles.chatContext(i.prompt())
                + i.answer())));
        splits.pretrain().forEach(i -> texts.addAll(List.of(i.prompt(), i.answer())));
        texts.addAll(List.of("  two leading spaces", "trailing space ", "naïve café ✓ 日本 🙂", "tab\there\r\n", ""));
        for (String t : texts) {
            assertEquals(t, tok.decode(tok.encode(t, false), false), t);
            assertEquals(t, tok.decode(tok.encode(t, true), true), t);
        }
    }

    @Test
    void roleHeadersAndFrequentWordsAreOneTokenDigitsAndRareStringsOneTokenPerCharacter() {
        // "What" and " is" are among the most frequent words of the corpus (addition, recall, successor prompts)
        assertEquals(List.of("▁", "<|user|>", "\n", "What", "▁is", "▁", "1", "2", "3", "4", "▁", "+", "▁", "5", "6",
                "?", "\n", "<|assistant|>", "\n", "1", "2", "9", "0"),
                tok.tokens(ChatTemplate.tulu(tok, "What is 1234 + 56?") + "1290", false));
        List<String> reversal = tok.tokens("Reverse: qzxjvk", false);
        assertEquals(List.of("q", "z", "x", "j", "v", "k"), reversal.subList(reversal.size() - 6, reversal.size()));
        for (String header : TaskTokenizer.ROLE_HEADERS) {
            assertEquals(List.of("▁", header), tok.tokens(header, false), header);
        }
        for (int i = 0; i < tok.vocabSize(); i++) {
            String t = tok.idToToken(i);
            assertTrue(!t.matches(".*\\d.*") || t.length() == 1 || t.startsWith("<0x"), "digits merged in " + t);
        }
    }

    @Test
    void tuluEncodingEndsTheAnswerWithEosAndMasksThePrompt() {
        EncodedExample e = new TuluEncoder(tok, 256).encode(new Conversation("x", "addition",
                List.of(new Message(Role.USER, "What is 12 + 34?"), new Message(Role.ASSISTANT, "46"))));
        int[] ids = e.inputIds();
        int[] labels = e.labels();
        assertEquals(1, ids[0]);
        assertEquals(2, ids[ids.length - 1]);
        int[] answer = {tok.tokenId("4").getAsInt(), tok.tokenId("6").getAsInt(), 2};
        assertArrayEquals(answer, java.util.Arrays.copyOfRange(labels, labels.length - 3, labels.length));
        for (int i = 0; i < labels.length - 3; i++) {
            assertEquals(TuluEncoder.IGNORE_INDEX, labels[i], "position " + i);
        }
    }

    @Test
    void theSameSplitsWriteTheSameTokenizer() throws Exception {
        Path again = dir.resolve("again");
        TaskTokenizer.write(TaskTokenizer.train(splits, 640, 10), again);
        for (String f : List.of(TaskTokenizer.TOKENIZER_JSON, TaskTokenizer.TOKENIZER_CONFIG)) {
            assertArrayEquals(Files.readAllBytes(dir.resolve(f)), Files.readAllBytes(again.resolve(f)), f);
        }
    }

    @Test
    void refusesAVocabularyWithoutRoomForTheCharacters() {
        MorException e = assertThrows(MorException.class, () -> TaskTokenizer.train(splits, 300, 10));
        assertTrue(e.getMessage().startsWith("a vocabulary of 300 tokens has no room"), e.getMessage());
    }

    @Test
    void theTrainerMergesTheMostFrequentPairFirst() {
        // "▁ab" 5 times, "▁abc" 3 times, "▁c" 2 times: pairs (▁,a) 8, (a,b) 8, (b,c) 3, with minWordCount 2;
        // the tie (▁,a) vs (a,b) goes to the smaller left token: "a" (U+0061) < "▁" (U+2581)
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            texts.add("ab");
        }
        for (int i = 0; i < 3; i++) {
            texts.add("abc");
        }
        texts.add("c");
        texts.add("c");
        BpeTrainer.Vocabulary v = new BpeTrainer(BpeTrainer.RESERVED + 200, 2, List.of()).train(texts);
        List<String> merges = v.merges().stream().map(m -> m[0] + " " + m[1]).toList();
        // after a+b: ▁ab ×8 → (▁,ab) 8, (ab,c) 3 → ▁ab; then (▁ab,c) 3 → ▁abc; "▁c" 2 → ▁c
        assertEquals(List.of("a b", "▁ ab", "▁ab c", "▁ c"), merges);
        assertEquals(List.of("ab", "▁ab", "▁abc", "▁c"), v.tokens().subList(v.tokens().size() - 4, v.tokens().size()));
    }
}
