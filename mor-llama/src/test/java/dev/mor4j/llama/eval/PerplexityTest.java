package dev.mor4j.llama.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.TestData;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

class PerplexityTest {

    private static LlamaModel model;
    private static Tokenizer tokenizer;
    private static LlamaGraph scoring;
    private static int bos;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        tokenizer = Tokenizer.load(TestData.root().resolve("tokenizers/sp-bpe-32k"));
        scoring = LlamaGraph.base(model.weights(), GraphKind.INFERENCE);
        bos = tokenizer.bosId().getAsInt();
    }

    private static long[] withBos(String text) {
        int[] ids = tokenizer.encode(text, false);
        long[] all = new long[ids.length + 1];
        all[0] = bos;
        for (int i = 0; i < ids.length; i++) {
            all[i + 1] = ids[i];
        }
        return all;
    }

    @Test
    void perplexityIsExpOfTheMeanLossOverAllTokens() {
        List<String> texts = EvalFiles.readTexts(TestData.root().resolve("eval/sample_texts.jsonl"));
        LlamaGraph withLoss = LlamaGraph.base(model.weights(), GraphKind.LOSS);
        double nll = 0;
        long n = 0;
        for (String text : texts) {
            long[] ids = withBos(text);
            float loss = LlamaForward.run(withLoss, new Batch(new long[][] {ids}, null, new long[][] {ids})).loss();
            nll += loss * (ids.length - 1.0);
            n += ids.length - 1;
        }
        double expected = Math.exp(nll / n);
        Perplexity.Result r = new Perplexity(tokenizer, new TokenScorer(scoring, 3)).compute(texts);
        double rel = Math.abs(r.perplexity() - expected) / expected;
        System.out.printf("perplexity of %d texts, %d tokens: %.4f (LlamaForward exp(loss) %.4f, relative |Δ| %.2g)%n",
                texts.size(), r.tokens(), r.perplexity(), expected, rel);
        assertEquals(n, r.tokens());
        assertEquals(texts.size(), r.texts());
        assertTrue(rel <= 1e-4, "relative difference " + rel);
    }

    @Test
    void windowsPredictEveryTokenOnceWithTheTokensBeforeIt() {
        int[] all = new int[300];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        List<TokenScorer.Span> w = Perplexity.windows(all, 128);
        assertEquals(3, w.size()); // 299 predictions: 128 + 128 + 43
        int next = 1;
        for (TokenScorer.Span s : w) {
            assertTrue(s.ids().length - 1 <= 128, "at most 128 tokens fed");
            for (int j = 0; j < s.ids().length; j++) {
                assertEquals(s.ids()[0] + j, s.ids()[j], "contiguous");
            }
            assertEquals(next, s.ids()[s.from()], "predictions continue where the last window stopped");
            next = s.ids()[s.ids().length - 1] + 1;
        }
        assertEquals(all.length, next);
        assertEquals(0, w.get(0).ids()[0]);
        assertEquals(128, w.get(1).ids()[0], "a full window sees the one token before it");
        assertEquals(128, w.get(2).ids().length - 1, "the last window sees as much as fits");
        assertEquals(List.of(), Perplexity.windows(new int[] {1}, 128), "BOS alone predicts nothing");
    }

    @Test
    void aTextLongerThanThePositionsIsScoredInWindows() {
        String text = String.join(" ", java.util.Collections.nCopies(40, "The river runs to the sea."));
        long[] all = withBos(text);
        int max = model.config().maxPositionEmbeddings();
        assertTrue(all.length > max + 1, "long enough for two windows: " + all.length);
        // reference: every window through LlamaForward alone, log-softmax in double
        double nll = 0;
        for (TokenScorer.Span s : Perplexity.windows(Arrays.stream(all).mapToInt(x -> (int) x).toArray(), max)) {
            long[] fed = Arrays.stream(s.ids()).limit(s.ids().length - 1).asLongStream().toArray();
            INDArray logits = LlamaForward.run(scoring, new Batch(new long[][] {fed}, null, null)).logits()
                    .slice(0).castTo(DataType.DOUBLE); // [T, V]
            INDArray logProbs = Transforms.log(Transforms.softmax(logits, true)); // [T, V]
            for (int i = s.from(); i < s.ids().length; i++) {
                nll -= logProbs.getDouble(i - 1, s.ids()[i]);
            }
        }
        Perplexity.Result r = new Perplexity(tokenizer, new TokenScorer(scoring, 2)).compute(List.of(text));
        assertEquals(all.length - 1, r.tokens());
        double expected = Math.exp(nll / (all.length - 1));
        assertEquals(expected, r.perplexity(), expected * 1e-4);
    }
}
