package dev.mor4j.llama.eval;

import dev.mor4j.llama.adapter.TaskSelection;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Zero-shot multiple choice by log-likelihood, as lm-evaluation-harness's {@code multiple_choice} tasks:
 * every choice is scored as the sum of the log-probabilities of its tokens after the context; {@code acc}
 * counts an item right when the correct choice has the largest sum, {@code acc_norm} when it has the largest
 * sum divided by the choice's length in characters (Unicode code points, Python's {@code len}). Ties go to
 * the first choice, as numpy's {@code argmax}.
 *
 * <p>The harness divides by the length of the choice without its target delimiter (the space it puts between
 * context and choice); here the choice is the continuation as written, so a choice written with a leading
 * space counts that space too.
 *
 * <p>Every choice of every item is scored in one call of the {@link TokenScorer}, so choices of different
 * items share batches.
 */
public final class MultipleChoiceEval {

    /** The task name of the result over every item. */
    public static final String ALL = "all";

    /**
     * Results per task (in order of first appearance) and over all items.
     *
     * @param tasks    one per task
     * @param overall  every item counted once ({@link #ALL})
     * @param scores   per item, the log-likelihood of each choice
     */
    public record Report(List<TaskResult> tasks, TaskResult overall, List<double[]> scores) {
    }

    private final ContinuationEncoder encoder;
    private final TokenScorer scorer;
    private final TaskSelection tasks; // null without per-example adapters

    public MultipleChoiceEval(ContinuationEncoder encoder, TokenScorer scorer) {
        this(encoder, scorer, null);
    }

    /**
     * @param tasks for a MoRE adapter, chooses each item's task from its context's tokens (every choice of the item
     *              is scored with that task); null for other adapters
     */
    public MultipleChoiceEval(ContinuationEncoder encoder, TokenScorer scorer, TaskSelection tasks) {
        this.encoder = encoder;
        this.scorer = scorer;
        this.tasks = tasks;
    }

    /** Scores every choice of every item and aggregates. */
    public Report run(List<MultipleChoiceItem> items) {
        List<TokenScorer.Span> spans = new ArrayList<>();
        List<Long> spanTasks = new ArrayList<>();
        for (MultipleChoiceItem item : items) {
            Long task = null; // the item's task, picked from its first span's context
            for (String choice : item.choices()) {
                TokenScorer.Span span = encoder.encode(item.context(), choice).span();
                if (span.ids().length > scorer.maxSpanLength()) {
                    span = leftTruncated(span, item);
                }
                if (tasks != null && task == null) {
                    task = (long) tasks.taskFor(contextOf(span)); // the context's tokens are every choice's
                }
                spans.add(span);
                spanTasks.add(task == null ? -1L : task);
            }
        }
        long[] taskIds = tasks == null ? null : spanTasks.stream().mapToLong(Long::longValue).toArray(); // [spans]
        List<TokenScorer.Score> scored = scorer.score(spans, taskIds);
        List<double[]> scores = new ArrayList<>();
        int k = 0;
        for (MultipleChoiceItem item : items) {
            double[] s = new double[item.choices().size()];
            for (int c = 0; c < s.length; c++) {
                s[c] = scored.get(k++).logLikelihood();
            }
            scores.add(s);
        }
        return aggregate(items, scores);
    }

    /** The tokens before a span's scored part: what the task is picked from. */
    private static int[] contextOf(TokenScorer.Span span) {
        return java.util.Arrays.copyOf(span.ids(), span.from());
    }

    /** As the harness, keeps the last tokens that fit; the whole continuation must fit. */
    private TokenScorer.Span leftTruncated(TokenScorer.Span span, MultipleChoiceItem item) {
        int[] ids = span.ids();
        int drop = ids.length - scorer.maxSpanLength();
        if (span.from() - drop < 1) {
            throw new dev.mor4j.core.MorException(item.source() + ": a choice has " + (ids.length - span.from())
                    + " tokens, more than the model's positions leave room for after the context");
        }
        return new TokenScorer.Span(java.util.Arrays.copyOfRange(ids, drop, ids.length), span.from() - drop);
    }

    /**
     * Accuracy and normalised accuracy from given scores.
     *
     * @param scores per item, the log-likelihood of each of its choices
     */
    public static Report aggregate(List<MultipleChoiceItem> items, List<double[]> scores) {
        if (items.size() != scores.size()) {
            throw new IllegalArgumentException(items.size() + " items but " + scores.size() + " score rows");
        }
        Map<String, int[]> perTask = new LinkedHashMap<>(); // task -> {n, right, rightNorm}
        int[] all = new int[3];
        for (int i = 0; i < items.size(); i++) {
            MultipleChoiceItem item = items.get(i);
            double[] s = scores.get(i);
            if (s.length != item.choices().size()) {
                throw new IllegalArgumentException(item.source() + ": " + item.choices().size() + " choices but "
                        + s.length + " scores");
            }
            double[] norm = new double[s.length];
            for (int c = 0; c < s.length; c++) {
                String choice = item.choices().get(c);
                norm[c] = s[c] / choice.codePointCount(0, choice.length());
            }
            int[] t = perTask.computeIfAbsent(item.task(), k -> new int[3]);
            int right = argmax(s) == item.label() ? 1 : 0;
            int rightNorm = argmax(norm) == item.label() ? 1 : 0;
            for (int[] counts : new int[][] {t, all}) {
                counts[0]++;
                counts[1] += right;
                counts[2] += rightNorm;
            }
        }
        List<TaskResult> tasks = new ArrayList<>();
        perTask.forEach((task, c) -> tasks.add(result(task, c)));
        return new Report(tasks, result(ALL, all), List.copyOf(scores));
    }

    private static TaskResult result(String task, int[] c) {
        return new TaskResult(task, c[0], c[0] == 0 ? Double.NaN : c[1] / (double) c[0],
                c[0] == 0 ? Double.NaN : c[2] / (double) c[0]);
    }

    /** The first index of the largest value (NaN is never the largest). */
    static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best] || Double.isNaN(v[best])) {
                best = i;
            }
        }
        return best;
    }
}
