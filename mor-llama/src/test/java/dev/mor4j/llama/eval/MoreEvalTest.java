package dev.mor4j.llama.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.llama.MoreFixtures;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.MoreExport;
import dev.mor4j.llama.adapter.TaskSelection;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multiple choice and perplexity with a MoRE adapter: with one task they score what the checkpoint merged for that
 * task scores, and with a task per item (or text) each is scored as it is with its task alone, though items of
 * different tasks share batches.
 */
class MoreEvalTest {

    private static LlamaModel model;
    private static Tokenizer tokenizer;
    private static LlamaAdapters more;
    private static TokenScorer scorer;
    private static List<MultipleChoiceItem> items;
    private static List<String> texts;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        tokenizer = Tokenizer.load(TestData.root().resolve("tokenizers/sp-bpe-32k"));
        more = MoreFixtures.adapters(model.weights(), 5);
        scorer = new TokenScorer(more.graph(model.weights(), GraphKind.INFERENCE), 4);
        items = EvalFiles.readTasks(TestData.root().resolve("eval/sample_tasks.jsonl"));
        texts = EvalFiles.readTexts(TestData.root().resolve("eval/sample_texts.jsonl"));
    }

    private static List<double[]> choices(TokenScorer s, TaskSelection tasks) {
        return new MultipleChoiceEval(new ContinuationEncoder(tokenizer, true), s, tasks).run(items).scores();
    }

    private static double maxAbsDiff(List<double[]> a, List<double[]> b) {
        assertEquals(a.size(), b.size());
        double d = 0;
        for (int i = 0; i < a.size(); i++) {
            d = Math.max(d, TestData.maxAbsDiff(a.get(i), b.get(i)));
        }
        return d;
    }

    @Test
    void oneTaskScoresWhatItsMergedCheckpointScores() {
        int task = MoreFixtures.taskWithMixedRanks(more);
        Path dir = tmp.resolve("merged");
        MoreExport.merge(model, more, task, dir, null, 5_000_000_000L);
        TokenScorer merged = new TokenScorer(LlamaGraph.base(LlamaModel.load(dir).weights(), GraphKind.INFERENCE), 4);
        TokenScorer base = new TokenScorer(LlamaGraph.base(model.weights(), GraphKind.INFERENCE), 4);
        List<double[]> adapter = choices(scorer, TaskSelection.fixed(task));
        double d = maxAbsDiff(adapter, choices(merged, null));
        double effect = maxAbsDiff(adapter, choices(base, null));
        Perplexity.Result p = new Perplexity(tokenizer, scorer, TaskSelection.fixed(task)).compute(texts);
        Perplexity.Result pm = new Perplexity(tokenizer, merged).compute(texts);
        double pd = Math.abs(p.negLogLikelihood() - pm.negLogLikelihood()) / pm.negLogLikelihood();
        System.out.printf("MoRE task %s: choice log-likelihoods max|Δ| %.3g to the merged checkpoint (the adapter moves"
                + " them by %.3g); perplexity %.4f vs %.4f merged (NLL relative Δ %.3g)%n", MoreFixtures.TASKS.get(task),
                d, effect, p.perplexity(), pm.perplexity(), pd);
        assertTrue(d <= 1e-4, "choice scores differ by " + d);
        assertTrue(effect > 1e-2, "the adapter moves the scores by " + effect);
        assertTrue(pd <= 1e-5, "perplexity NLL relative difference " + pd);
        assertEquals(pm.tokens(), p.tokens());
    }

    @Test
    void eachItemAndTextIsScoredWithItsOwnTask() {
        List<Integer> picked = new ArrayList<>();
        TaskSelection byLength = ids -> {
            int t = ids.length % 3;
            picked.add(t);
            return t;
        };
        List<double[]> mixed = choices(scorer, byLength);
        assertEquals(items.size(), picked.size(), "one task per item, not per choice");
        assertTrue(new HashSet<>(picked).size() > 1, "the items should get different tasks: " + picked);
        List<List<double[]>> alone = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            alone.add(choices(scorer, TaskSelection.fixed(t)));
        }
        assertTrue(maxAbsDiff(alone.get(0), alone.get(1)) > 1e-2, "tasks score differently");
        for (int i = 0; i < items.size(); i++) {
            double[] expected = alone.get(picked.get(i)).get(i);
            for (int c = 0; c < expected.length; c++) {
                assertEquals(expected[c], mixed.get(i)[c], 1e-5, "item " + i + " choice " + c);
            }
        }

        picked.clear();
        Perplexity.Result all = new Perplexity(tokenizer, scorer, byLength).compute(texts);
        assertEquals(texts.size(), picked.size(), "one task per text");
        double nll = 0;
        for (int i = 0; i < texts.size(); i++) {
            TaskSelection fixed = TaskSelection.fixed(picked.get(i));
            nll += new Perplexity(tokenizer, scorer, fixed).compute(List.of(texts.get(i))).negLogLikelihood();
        }
        System.out.printf("per-text tasks %s: NLL %.6f, texts alone with their tasks %.6f%n", picked,
                all.negLogLikelihood(), nll);
        assertEquals(nll, all.negLogLikelihood(), 1e-5 * nll);
    }
}
