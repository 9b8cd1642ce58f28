package dev.mor4j.llama.model;

import dev.mor4j.core.nn.SessionMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Runs a {@link LlamaGraph} on a batch and returns its outputs in transformers' shapes. */
public final class LlamaForward {

    /**
     * @param logits       {@code [B, T, V]}
     * @param loss         the causal-LM loss, or null when the batch has no labels or the graph no loss
     * @param hiddenStates {@code L+1} arrays {@code [B, T, H]} when asked for, else empty
     */
    public record Result(INDArray logits, Float loss, List<INDArray> hiddenStates) {
    }

    private LlamaForward() {
    }

    /**
     * Runs the graph on {@code batch}: the logits of every position, and the loss when the graph has one (the
     * batch then needs labels). In a graph with a loss the two come from separate passes of the LM head, over every
     * position for the logits and over the labelled positions for the loss.
     *
     * @throws dev.mor4j.core.MorException if the graph has a loss and the batch no labels
     */
    public static Result run(LlamaGraph graph, Batch batch) {
        return run(graph, batch, false);
    }

    /** As {@link #run(LlamaGraph, Batch)}, with the {@code L+1} hidden states too. */
    public static Result withHiddenStates(LlamaGraph graph, Batch batch) {
        return run(graph, batch, true);
    }

    private static Result run(LlamaGraph graph, Batch batch, boolean hiddenStates) {
        boolean loss = graph.hasLoss();
        Map<String, INDArray> feeds = graph.feeds(batch, LlamaFeeds.Reduction.MEAN);
        List<String> outputs = new ArrayList<>();
        outputs.add(LlamaGraph.LOGITS);
        if (loss) {
            outputs.add(LlamaGraph.LOSS);
        }
        int layers = graph.weights().config().numHiddenLayers();
        if (hiddenStates) {
            for (int i = 0; i <= layers; i++) {
                outputs.add("hidden." + i);
            }
        }
        Map<String, INDArray> out = SessionMemory.output(graph.sd(), feeds, outputs.toArray(new String[0]));
        long b = batch.batchSize();
        long t = batch.seqLen();
        INDArray logits = out.get(LlamaGraph.LOGITS).reshape(b, t, -1); // [B, T, V]
        List<INDArray> hidden = new ArrayList<>();
        if (hiddenStates) {
            for (int i = 0; i <= layers; i++) {
                hidden.add(out.get("hidden." + i).reshape(b, t, -1)); // [B, T, H]
            }
        }
        Float lossValue = loss ? out.get(LlamaGraph.LOSS).getFloat(0) : null;
        return new Result(logits, lossValue, hidden);
    }
}
