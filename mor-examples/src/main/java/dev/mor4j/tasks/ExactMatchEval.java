package dev.mor4j.tasks;

import dev.mor4j.llama.generate.GenerationConfig;
import dev.mor4j.llama.generate.Generator;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Exact-match generation accuracy: the model answers every item's prompt, and an answer is right when it equals
 * the expected answer after both are stripped of surrounding white space ({@link String#strip}). Accuracy is
 * reported per task (in the order tasks first appear) and over all items ({@value #ALL}, every item once).
 *
 * <p>How answers are produced is an {@link Answerer}; {@link #greedyChat} is the model's greedy answer in the
 * Tulu chat format, up to EOS.
 */
public final class ExactMatchEval {

    /** The name of the row over all items. */
    public static final String ALL = "all";
    /** New tokens allowed beyond the expected answer's token count when no budget is given. */
    public static final int SLACK_TOKENS = 8;

    /** Produces the model's answer to an item. */
    @FunctionalInterface
    public interface Answerer {
        String answer(GenerationItem item);
    }

    /** One item's outcome. */
    public record Prediction(GenerationItem item, String generated, boolean correct) {
    }

    /**
     * @param task    the task name, or {@value #ALL}
     * @param n       items
     * @param correct items answered exactly
     */
    public record Score(String task, int n, int correct) {
        /** The fraction answered exactly. */
        public double exactMatch() {
            return n == 0 ? 0 : (double) correct / n;
        }
    }

    /** Scores per task, over all items, and every prediction in item order. */
    public record Report(List<Score> tasks, Score overall, List<Prediction> predictions) {
        public Report {
            tasks = List.copyOf(tasks);
            predictions = List.copyOf(predictions);
        }
    }

    private final Answerer answerer;

    public ExactMatchEval(Answerer answerer) {
        this.answerer = answerer;
    }

    /** Whether a generated answer matches the expected one: equal once both are stripped. */
    public static boolean matches(String generated, String expected) {
        return generated.strip().equals(expected.strip());
    }

    /** Answers and scores every item. */
    public Report run(List<GenerationItem> items) {
        return run(items, p -> {
        });
    }

    /**
     * Answers and scores every item, in order.
     *
     * @param onEach told each prediction as it is made (for progress)
     */
    public Report run(List<GenerationItem> items, Consumer<Prediction> onEach) {
        List<Prediction> predictions = new ArrayList<>(items.size());
        for (GenerationItem item : items) {
            String generated = answerer.answer(item);
            Prediction p = new Prediction(item, generated, matches(generated, item.answer()));
            predictions.add(p);
            onEach.accept(p);
        }
        return aggregate(predictions);
    }

    /** Scores per task and over all predictions. */
    public static Report aggregate(List<Prediction> predictions) {
        Map<String, int[]> perTask = new LinkedHashMap<>(); // task → {n, correct}
        int correct = 0;
        for (Prediction p : predictions) {
            int[] c = perTask.computeIfAbsent(p.item().task(), t -> new int[2]);
            c[0]++;
            if (p.correct()) {
                c[1]++;
                correct++;
            }
        }
        List<Score> tasks = new ArrayList<>();
        perTask.forEach((task, c) -> tasks.add(new Score(task, c[0], c[1])));
        return new Report(tasks, new Score(ALL, predictions.size(), correct), predictions);
    }

    /**
     * The generator's greedy answer to the item's prompt in the Tulu chat format
     * ({@link Generator#chat}), decoded without special tokens.
     *
     * @param maxNewTokens the most new tokens; 0 for the expected answer's token count (without special tokens)
     *                     plus EOS plus {@value #SLACK_TOKENS}, per item (an answer cut short by that budget can
     *                     only be wrong, and an untrained model stops early)
     */
    public static Answerer greedyChat(Generator generator, Tokenizer tokenizer, int maxNewTokens) {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("maxNewTokens must be at least 0 (0 = from the answer), got "
                    + maxNewTokens);
        }
        return item -> {
            int budget = maxNewTokens > 0 ? maxNewTokens
                    : tokenizer.encode(item.answer(), false).length + 1 + SLACK_TOKENS;
            return generator.chat(item.prompt(), GenerationConfig.greedy(budget)).text();
        };
    }
}
