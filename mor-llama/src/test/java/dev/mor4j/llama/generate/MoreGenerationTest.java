package dev.mor4j.llama.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.MoreFixtures;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.MoreExport;
import dev.mor4j.llama.adapter.TaskPicker;
import dev.mor4j.llama.adapter.TaskSelection;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generation with a MoRE adapter and a task, through the key/value cache (the task fed to the prefill and to every
 * decode step), against generation with the checkpoint that task merged into (greedy: the same tokens, logits within
 * 1e-4 at every step) and against recomputing the whole sequence at every step.
 */
class MoreGenerationTest {

    private static final int[] PROMPT = {1, 450, 4996, 17354, 1701, 29916, 432};
    private static final int NEW_TOKENS = 10;

    private static LlamaModel model;
    private static LlamaAdapters more;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        more = MoreFixtures.adapters(model.weights(), 5);
    }

    /** The generated ids and every step's logits {@code [steps][V]}. */
    private record Run(int[] tokens, List<float[]> logits) {
    }

    private static Run generate(Generator g) {
        List<float[]> logits = new ArrayList<>();
        GenerationResult r = g.generate(PROMPT, GenerationConfig.greedy(NEW_TOKENS), (step, l, token) -> logits.add(l.clone()));
        return new Run(r.tokenIds(), logits);
    }

    private static double maxAbsDiff(List<float[]> a, List<float[]> b) {
        assertEquals(a.size(), b.size());
        double d = 0;
        for (int s = 0; s < a.size(); s++) {
            d = Math.max(d, TestData.maxAbsDiff(a.get(s), b.get(s)));
        }
        return d;
    }

    @Test
    void eachTaskGeneratesWhatItsMergedCheckpointGenerates() {
        Run base = generate(Generator.withKvCache(model.weights(), null, null));
        for (int task = 0; task < MoreFixtures.TASKS.size(); task++) {
            Path dir = tmp.resolve("merged-" + task);
            MoreExport.merge(model, more, task, dir, null, 5_000_000_000L);
            Run merged = generate(Generator.withKvCache(LlamaModel.load(dir).weights(), null, null));
            Run cached = generate(Generator.withKvCache(model.weights(), more, null, TaskSelection.fixed(task)));
            Run recomputed = generate(Generator.recomputing(model.weights(), more, null, TaskSelection.fixed(task)));
            double d = maxAbsDiff(cached.logits(), merged.logits());
            double effect = maxAbsDiff(cached.logits(), base.logits());
            System.out.printf("MoRE task %s with the cache: tokens %s; logits max|Δ| %.3g to the merged checkpoint,"
                    + " %.3g to recomputing (the adapter moves them by %.3g)%n", MoreFixtures.TASKS.get(task),
                    java.util.Arrays.toString(cached.tokens()), d, maxAbsDiff(cached.logits(), recomputed.logits()),
                    effect);
            assertArrayEquals(merged.tokens(), cached.tokens(), "task " + task);
            assertArrayEquals(recomputed.tokens(), cached.tokens(), "task " + task);
            assertTrue(d <= 1e-4, "task " + task + ": " + d);
            assertTrue(maxAbsDiff(cached.logits(), recomputed.logits()) <= 1e-4);
            assertTrue(effect > 1e-2, "the task's adapter should change the logits, moved them by " + effect);
        }
    }

    @Test
    void autoPicksOnceFromThePromptAndKeepsTheTaskForEveryStep() {
        TaskPicker picker = new TaskPicker(model.weights(), more);
        List<TaskPicker.Pick> picks = new ArrayList<>();
        Run auto = generate(Generator.withKvCache(model.weights(), more, null, picker.selection(picks::add)));
        assertEquals(1, picks.size(), "one pick per prompt");
        assertEquals(picker.pick(PROMPT).task(), picks.get(0).task());
        Run fixed = generate(Generator.withKvCache(model.weights(), more, null, TaskSelection.fixed(picks.get(0).task())));
        assertArrayEquals(fixed.tokens(), auto.tokens());
        assertEquals(0.0, maxAbsDiff(fixed.logits(), auto.logits()));
    }

    @Test
    void aMoreAdapterWithoutATaskIsRefused() {
        Generator g = Generator.withKvCache(model.weights(), more, null);
        MorException e = assertThrows(MorException.class, () -> g.generate(PROMPT, GenerationConfig.greedy(2), null));
        assertTrue(e.getMessage().contains("needs each example's task"), e.getMessage());
    }
}
