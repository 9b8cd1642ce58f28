package dev.mor4j.llama.eval;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Log-likelihoods of token spans under a causal LM, many sequences at a time.
 *
 * <p>A {@link Span} is a token sequence and the index of its first scored token; its score is
 * {@code Σ_{i ≥ from} log p(ids[i] | ids[<i])}, the log-probability taken from a log-softmax of the logits in
 * double precision. The last token is never fed (its logits predict nothing that is scored), so a span may
 * hold one token more than {@code max_position_embeddings}.
 *
 * <p>Spans are sorted by length, longest first, and run {@code batchSize} at a time, right-padded; padding
 * changes nothing for the real tokens (they never attend to it). The graph is built by the caller, once, and
 * reused for every batch.
 */
public final class TokenScorer {

    /**
     * Tokens of which the last {@code ids.length - from} are scored.
     *
     * @param ids  the sequence
     * @param from the first scored index, at least 1
     */
    public record Span(int[] ids, int from) {
        public Span {
            if (from < 1 || from >= ids.length) {
                throw new IllegalArgumentException("the scored part must start in [1, " + ids.length + "), got " + from);
            }
        }
    }

    /**
     * A span's score.
     *
     * @param logLikelihood the sum of the scored tokens' log-probabilities
     * @param tokens        the number of scored tokens
     * @param greedy        whether each scored token is also the most likely one (lm-evaluation-harness's
     *                      {@code is_greedy})
     */
    public record Score(double logLikelihood, int tokens, boolean greedy) {
    }

    private static final long PAD_ID = 0;

    private final LlamaGraph graph;
    private final int batchSize;
    private final int maxPositions;

    /**
     * @param graph     an inference graph without a loss (with or without adapters)
     * @param batchSize sequences per forward pass; the logits of a batch take {@code batchSize · T · V} floats
     */
    public TokenScorer(LlamaGraph graph, int batchSize) {
        if (graph.hasLoss()) {
            throw new IllegalArgumentException("expected a graph without a loss");
        }
        if (batchSize < 1) {
            throw new MorException("the batch size must be at least 1, got " + batchSize);
        }
        this.graph = graph;
        this.batchSize = batchSize;
        this.maxPositions = graph.weights().config().maxPositionEmbeddings();
    }

    /** The longest span (in tokens) that can be scored: one more than the model's positions. */
    public int maxSpanLength() {
        return maxPositions + 1;
    }

    /** Scores every span; results in the order of {@code spans}. */
    public List<Score> score(List<Span> spans) {
        return score(spans, null);
    }

    /**
     * Scores every span with a task id each, for adapters that adapt per example (MoRE); spans of different tasks
     * may share a batch.
     *
     * @param taskIds {@code [spans]} the task id of each span; null when the adapters need none
     */
    public List<Score> score(List<Span> spans, long[] taskIds) {
        if (taskIds != null && taskIds.length != spans.size()) {
            throw new IllegalArgumentException(spans.size() + " spans but " + taskIds.length + " task ids");
        }
        for (int i = 0; i < spans.size(); i++) {
            if (spans.get(i).ids().length > maxSpanLength()) {
                throw new MorException("sequence " + i + " has " + spans.get(i).ids().length + " tokens; at most "
                        + maxSpanLength() + " fit max_position_embeddings (" + maxPositions + ")");
            }
        }
        Integer[] order = new Integer[spans.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -spans.get(i).ids().length).thenComparingInt(i -> i));
        Score[] out = new Score[spans.size()];
        for (int start = 0; start < order.length; start += batchSize) {
            List<Integer> chunk = new ArrayList<>(Arrays.asList(order).subList(start, Math.min(order.length, start + batchSize)));
            scoreBatch(spans, chunk, taskIds, out);
        }
        return Arrays.asList(out);
    }

    private void scoreBatch(List<Span> spans, List<Integer> chunk, long[] taskIds, Score[] out) {
        int b = chunk.size();
        int t = 0;
        for (int i : chunk) {
            t = Math.max(t, spans.get(i).ids().length - 1);
        }
        long[][] ids = new long[b][t]; // [B, T], right-padded
        long[][] mask = new long[b][t]; // [B, T]
        for (int r = 0; r < b; r++) {
            int[] s = spans.get(chunk.get(r)).ids();
            Arrays.fill(ids[r], PAD_ID);
            for (int j = 0; j < s.length - 1; j++) {
                ids[r][j] = s[j];
                mask[r][j] = 1;
            }
        }
        long[] tasks = taskIds == null ? null : chunk.stream().mapToLong(i -> taskIds[i]).toArray(); // [B]
        INDArray logits = LlamaForward.run(graph, new Batch(ids, mask, null, tasks)).logits(); // [B, T, V]
        for (int r = 0; r < b; r++) {
            Span span = spans.get(chunk.get(r));
            double sum = 0;
            boolean greedy = true;
            for (int i = span.from(); i < span.ids().length; i++) {
                // position i-1 predicts token i
                float[] row = logits.get(NDArrayIndex.point(r), NDArrayIndex.point(i - 1), NDArrayIndex.all()).toFloatVector(); // [V]
                int target = span.ids()[i];
                sum += logSoftmaxAt(row, target);
                greedy &= isArgmax(row, target);
            }
            out[chunk.get(r)] = new Score(sum, span.ids().length - span.from(), greedy);
        }
    }

    /** {@code log softmax(row)[target]} in double. */
    static double logSoftmaxAt(float[] row, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : row) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : row) {
            sum += Math.exp(x - max);
        }
        return row[target] - max - Math.log(sum);
    }

    private static boolean isArgmax(float[] row, int target) {
        for (int i = 0; i < row.length; i++) {
            if (row[i] > row[target] || (row[i] == row[target] && i < target)) {
                return false;
            }
        }
        return true;
    }
}
