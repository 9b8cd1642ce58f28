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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Batched, right-padded log-likelihoods of the sample tasks' choices against the causal-LM loss of
 * {@link LlamaForward} on each sequence alone, its context positions masked with -100: the loss is the mean
 * NLL over the continuation, so {@code -loss · count} is the log-likelihood.
 */
class LoglikelihoodTest {

    private static LlamaModel model;
    private static Tokenizer tokenizer;
    private static LlamaGraph scoring;
    private static LlamaGraph withLoss;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        tokenizer = Tokenizer.load(TestData.root().resolve("tokenizers/sp-bpe-32k"));
        scoring = LlamaGraph.base(model.weights(), GraphKind.INFERENCE);
        withLoss = LlamaGraph.base(model.weights(), GraphKind.LOSS);
    }

    /** {@code Σ log p(continuation | context)} through the graph's own loss. */
    static double referenceLogLikelihood(LlamaGraph graph, TokenScorer.Span span) {
        long[] ids = Arrays.stream(span.ids()).asLongStream().toArray();
        long[] labels = ids.clone();
        Arrays.fill(labels, 0, span.from(), Batch.IGNORE_INDEX);
        LlamaForward.Result r = LlamaForward.run(graph, new Batch(new long[][] {ids}, null, new long[][] {labels}));
        return -r.loss() * (ids.length - span.from());
    }

    @Test
    void choiceScoresMatchTheLossOfEachSequenceAlone() {
        List<MultipleChoiceItem> items = EvalFiles.readTasks(TestData.root().resolve("eval/sample_tasks.jsonl"));
        ContinuationEncoder encoder = new ContinuationEncoder(tokenizer, true);
        List<TokenScorer.Span> spans = new ArrayList<>();
        for (MultipleChoiceItem item : items) {
            for (String choice : item.choices()) {
                spans.add(encoder.encode(item.context(), choice).span());
            }
        }
        List<TokenScorer.Score> scores = new TokenScorer(scoring, 5).score(spans);
        double worst = 0;
        for (int i = 0; i < spans.size(); i++) {
            double expected = referenceLogLikelihood(withLoss, spans.get(i));
            double d = Math.abs(scores.get(i).logLikelihood() - expected);
            worst = Math.max(worst, d);
            assertTrue(d <= 1e-4, "sequence " + i + ": " + scores.get(i).logLikelihood() + " vs " + expected);
            assertEquals(spans.get(i).ids().length - spans.get(i).from(), scores.get(i).tokens());
        }
        System.out.printf("log-likelihood of %d choices (batches of 5, right-padded): max|Δ| vs LlamaForward loss %.3g%n",
                spans.size(), worst);
        MultipleChoiceEval.Report report = new MultipleChoiceEval(encoder, new TokenScorer(scoring, 8)).run(items);
        assertEquals(3, report.tasks().size());
        assertEquals(items.size(), report.overall().n());
        for (int i = 0, k = 0; i < items.size(); i++) {
            for (double s : report.scores().get(i)) {
                assertEquals(scores.get(k++).logLikelihood(), s, 1e-4, "the same scores in any batching");
            }
        }
    }

    @Test
    void greedyFlagMarksTheModelsOwnContinuation() {
        int[] prompt = tokenizer.encode("Once upon a time", true);
        float[] logits = LlamaForward.run(scoring, new Batch(new long[][] {Arrays.stream(prompt).asLongStream().toArray()},
                null, null)).logits().slice(0).slice(prompt.length - 1).toFloatVector();
        int best = dev.mor4j.llama.generate.Sampler.argmax(logits);
        int[] ids = Arrays.copyOf(prompt, prompt.length + 1);
        ids[prompt.length] = best;
        int[] other = ids.clone();
        other[prompt.length] = best == 5 ? 6 : 5;
        List<TokenScorer.Score> s = new TokenScorer(scoring, 2).score(List.of(
                new TokenScorer.Span(ids, prompt.length), new TokenScorer.Span(other, prompt.length)));
        assertTrue(s.get(0).greedy());
        assertTrue(!s.get(1).greedy());
        assertTrue(s.get(0).logLikelihood() > s.get(1).logLikelihood());
    }
}
