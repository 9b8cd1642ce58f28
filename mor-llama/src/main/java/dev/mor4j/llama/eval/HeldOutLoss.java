package dev.mor4j.llama.eval;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.train.BatchCollator;
import dev.mor4j.llama.train.TaskIndex;
import java.util.List;

/**
 * The causal-LM loss of held-out examples (e.g. a validation split): the mean negative log-likelihood per labelled
 * token over all of them, as training computes it (the answer tokens of Tulu examples). The examples run
 * {@code batchSize} at a time, right-padded ({@link BatchCollator}), through a graph with a loss
 * ({@link GraphKind#LOSS}); each batch's mean loss is weighted by its labelled tokens, so the result does not depend
 * on how the examples fall into batches.
 */
public final class HeldOutLoss {

    private HeldOutLoss() {
    }

    /**
     * @param graph     a {@link GraphKind#LOSS} graph of the model (with its adapters, if any)
     * @param examples  the examples, each with at least one label
     * @param batchSize examples per forward pass
     * @param tasks     a MoRE adapter's tasks (each example's {@code dataset} must be one); null for other models
     * @return the mean loss per labelled token
     * @throws MorException when the graph has no loss or there is nothing to score
     */
    public static double of(LlamaGraph graph, List<EncodedExample> examples, int batchSize, TaskIndex tasks) {
        if (graph.kind() != GraphKind.LOSS) {
            throw new MorException("held-out loss needs a LOSS graph, got " + graph.kind());
        }
        if (batchSize < 1) {
            throw new MorException("the batch size must be at least 1, got " + batchSize);
        }
        double total = 0;
        long labelled = 0;
        for (int start = 0; start < examples.size(); start += batchSize) {
            List<EncodedExample> chunk = examples.subList(start, Math.min(examples.size(), start + batchSize));
            long n = chunk.stream().mapToLong(EncodedExample::trainableTokens).sum();
            if (n == 0) {
                continue;
            }
            Batch batch = BatchCollator.collate(chunk);
            if (tasks != null) {
                batch = batch.withTaskIds(tasks.idsOf(chunk));
            }
            Float loss = LlamaForward.run(graph, batch).loss();
            total += loss.doubleValue() * n;
            labelled += n;
        }
        if (labelled == 0) {
            throw new MorException("no labelled token among " + examples.size() + " held-out examples");
        }
        return total / labelled;
    }
}
