package dev.mor4j.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.llama.generate.Generator;
import dev.mor4j.llama.generate.LogitsStepper;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ExactMatchEvalTest {

    private static final Path SP_BPE = Path.of(System.getProperty("mor.testdata", "../testdata"))
            .resolve("tokenizers/sp-bpe-32k");

    private static GenerationItem item(String task, String id, String answer) {
        return new GenerationItem(task, id, "prompt of " + id, answer, "test:" + id);
    }

    @Test
    void scoresPerTaskInFirstAppearanceOrderAndOverall() {
        List<GenerationItem> items = List.of(
                item("sorting", "s1", "1, 2, 3"),
                item("addition", "a1", "5218"),
                item("addition", "a2", "77"),
                item("sorting", "s2", "4, 9"),
                item("addition", "a3", "100"),
                item("sorting", "s3", "0, 0"));
        Map<String, String> generated = Map.of(
                "s1", " 1, 2, 3\n", // surrounding white space is stripped: right
                "a1", "5218",
                "a2", "78",
                "s2", "4,9", // inner white space counts: wrong
                "a3", "100.",
                "s3", "0, 0");
        ExactMatchEval.Report r = new ExactMatchEval(i -> generated.get(i.id())).run(items);
        assertEquals(List.of(new ExactMatchEval.Score("sorting", 3, 2), new ExactMatchEval.Score("addition", 3, 1)),
                r.tasks());
        assertEquals(new ExactMatchEval.Score(ExactMatchEval.ALL, 6, 3), r.overall());
        assertEquals(2.0 / 3, r.tasks().get(0).exactMatch(), 0);
        assertEquals(1.0 / 3, r.tasks().get(1).exactMatch(), 0);
        assertEquals(0.5, r.overall().exactMatch(), 0);
        List<Boolean> correct = r.predictions().stream().map(ExactMatchEval.Prediction::correct).toList();
        assertEquals(List.of(true, true, false, false, false, true), correct);
        assertEquals(" 1, 2, 3\n", r.predictions().get(0).generated());
    }

    @Test
    void matchingStripsOnlyTheEnds() {
        assertTrue(ExactMatchEval.matches("\t42 \n", "42"));
        assertTrue(ExactMatchEval.matches("2021-03-07", " 2021-03-07 "));
        assertFalse(ExactMatchEval.matches("4 2", "42"));
        assertFalse(ExactMatchEval.matches("ABC", "abc"));
        assertFalse(ExactMatchEval.matches("", "0"));
    }

    @Test
    void greedyChatPromptsInTheChatFormatAndBudgetsTheAnswerLengthPlusSlack() {
        Tokenizer tok = Tokenizer.load(SP_BPE);
        ScriptedStepper stepper = new ScriptedStepper(tok.vocabSize(), tok.encode("42", false));
        Generator generator = new Generator(stepper, tok, Set.of(2));
        GenerationItem item = new GenerationItem("addition", "a", "What is 40 + 2?", "42", "test:1");

        // the script never says EOS: the answer runs to the budget, which is the answer's tokens + EOS + slack
        String answer = ExactMatchEval.greedyChat(generator, tok, 0).answer(item);
        int budget = tok.encode("42", false).length + 1 + ExactMatchEval.SLACK_TOKENS;
        assertEquals(budget, stepper.generated.size());
        assertArrayEquals(tok.encode("<|user|>\nWhat is 40 + 2?\n<|assistant|>\n", true), stepper.prompt);
        assertTrue(answer.startsWith("42"), answer);
        assertFalse(ExactMatchEval.matches(answer, "42"));

        String fixed = ExactMatchEval.greedyChat(generator, tok, 2).answer(item);
        assertEquals(2, stepper.generated.size());
        int[] script = tok.encode("42", false);
        assertEquals(tok.decode(new int[] {script[0], script[1 % script.length]}, true), fixed);
    }

    @Test
    void greedyChatStopsAtEos() {
        Tokenizer tok = Tokenizer.load(SP_BPE);
        int[] answer = tok.encode("42", false);
        int[] script = java.util.Arrays.copyOf(answer, answer.length + 2);
        script[answer.length] = 2; // EOS, then a token never reached
        script[answer.length + 1] = tok.encode("x", false)[0];
        ScriptedStepper stepper = new ScriptedStepper(tok.vocabSize(), script);
        GenerationItem item = new GenerationItem("addition", "a", "What is 40 + 2?", "42", "test:1");
        String generated = ExactMatchEval.greedyChat(new Generator(stepper, tok, Set.of(2)), tok, 0).answer(item);
        assertEquals("42", generated);
        assertEquals(answer.length + 1, stepper.generated.size());
        assertTrue(new ExactMatchEval(i -> generated).run(List.of(item)).predictions().get(0).correct());
    }

    /** Emits a fixed script of tokens, cycling it: the logits put 1 on the next scripted id and 0 elsewhere. */
    private static final class ScriptedStepper implements LogitsStepper {
        private final int vocab;
        private final int[] script;
        int[] prompt;
        final List<Integer> generated = new ArrayList<>();

        ScriptedStepper(int vocab, int[] script) {
            this.vocab = vocab;
            this.script = script;
        }

        @Override
        public float[] start(int[] promptIds) {
            prompt = promptIds.clone();
            generated.clear();
            return next();
        }

        @Override
        public float[] append(int tokenId) {
            return next();
        }

        private float[] next() {
            float[] logits = new float[vocab];
            int token = script[generated.size() % script.length];
            logits[token] = 1;
            generated.add(token);
            return logits;
        }

        @Override
        public int length() {
            return prompt.length + generated.size();
        }

        @Override
        public int maxLength() {
            return 1 << 20;
        }
    }
}
