package dev.mor4j.llama.eval;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.adapter.TaskSelection;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Token-level perplexity of texts: {@code exp(Σ NLL / N)}, the mean negative log-likelihood over all predicted
 * tokens of all texts.
 *
 * <p>Each text is tokenized without special tokens and BOS is put in front of it; BOS is context only, never
 * predicted, so a text of n tokens contributes n predictions (its first token predicted from BOS alone). This
 * is lm-evaluation-harness's {@code loglikelihood_rolling} with BOS as the prefix token. A text longer than the
 * model's positions is cut into windows as the harness does ({@code get_rolling_token_windows} with context
 * length 1): each window predicts up to {@code max_position_embeddings} tokens not predicted before, and sees
 * the tokens just before them, as many as fit.
 */
public final class Perplexity {

    /**
     * @param texts           texts read
     * @param tokens          predicted tokens (N)
     * @param negLogLikelihood {@code Σ NLL} in nats
     */
    public record Result(int texts, long tokens, double negLogLikelihood) {

        /** Mean NLL per predicted token, in nats. */
        public double meanNll() {
            return negLogLikelihood / tokens;
        }

        /** {@code exp(mean NLL)}. */
        public double perplexity() {
            return Math.exp(meanNll());
        }
    }

    private final Tokenizer tokenizer;
    private final TokenScorer scorer;
    private final TaskSelection tasks; // null without per-example adapters
    private final int bos;

    /**
     * @throws MorException when the tokenizer has no BOS token
     */
    public Perplexity(Tokenizer tokenizer, TokenScorer scorer) {
        this(tokenizer, scorer, null);
    }

    /**
     * @param tasks for a MoRE adapter, chooses each text's task from its first tokens (BOS and as many as one pass
     *              takes, {@code max_position_embeddings}); every window of the text uses it. Null for other adapters.
     * @throws MorException when the tokenizer has no BOS token
     */
    public Perplexity(Tokenizer tokenizer, TokenScorer scorer, TaskSelection tasks) {
        this.tokenizer = tokenizer;
        this.scorer = scorer;
        this.tasks = tasks;
        this.bos = tokenizer.requireBosId("perplexity puts it in front of every text");
    }

    /**
     * @throws MorException when no text has a token
     */
    public Result compute(List<String> texts) {
        List<TokenScorer.Span> spans = new ArrayList<>();
        List<Long> spanTasks = new ArrayList<>();
        for (String text : texts) {
            int[] ids = tokenizer.encode(text, false);
            int[] all = new int[ids.length + 1];
            all[0] = bos;
            System.arraycopy(ids, 0, all, 1, ids.length);
            List<TokenScorer.Span> w = windows(all, scorer.maxSpanLength() - 1);
            long task = tasks == null || w.isEmpty() ? -1
                    : tasks.taskFor(Arrays.copyOf(all, Math.min(all.length, scorer.maxSpanLength() - 1)));
            spans.addAll(w);
            w.forEach(span -> spanTasks.add(task));
        }
        if (spans.isEmpty()) {
            throw new MorException("the texts have no token to predict");
        }
        long[] taskIds = tasks == null ? null : spanTasks.stream().mapToLong(Long::longValue).toArray(); // [spans]
        double nll = 0;
        long n = 0;
        for (TokenScorer.Score s : scorer.score(spans, taskIds)) {
            nll -= s.logLikelihood();
            n += s.tokens();
        }
        return new Result(texts.size(), n, nll);
    }

    /**
     * Spans that predict each of {@code all[1..]} exactly once, each at most {@code maxPositions} predictions
     * with at most {@code maxPositions} tokens fed.
     *
     * @param all BOS then the text's tokens
     */
    static List<TokenScorer.Span> windows(int[] all, int maxPositions) {
        List<TokenScorer.Span> out = new ArrayList<>();
        for (int start = 1; start < all.length; ) {
            int end = Math.min(all.length, start + maxPositions); // predicts all[start..end)
            int first = Math.max(0, end - 1 - maxPositions); // feeds all[first..end-1)
            out.add(new TokenScorer.Span(Arrays.copyOfRange(all, first, end), start - first));
            start = end;
        }
        return out;
    }
}
