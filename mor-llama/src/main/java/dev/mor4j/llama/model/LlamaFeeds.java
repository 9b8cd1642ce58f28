package dev.mor4j.llama.model;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.config.LlamaConfig;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Turns a {@link Batch} into the placeholder arrays of a {@link LlamaGraph}. */
public final class LlamaFeeds {

    /** The additive bias of masked attention entries: float32's lowest value, as transformers uses. */
    public static final float MASKED = -Float.MAX_VALUE;

    private LlamaFeeds() {
    }

    /** How the loss averages: transformers' mean over counted positions, or their sum. */
    public enum Reduction { MEAN, SUM }

    /** Feeds for a graph computing in float32. */
    public static Map<String, INDArray> of(LlamaConfig config, Batch batch, boolean withLoss, Reduction reduction) {
        return of(config, batch, withLoss, reduction, DataType.FLOAT);
    }

    /** Feeds whose floating-point placeholders are in {@code floatType} (the graph's type). */
    public static Map<String, INDArray> of(LlamaConfig config, Batch batch, boolean withLoss, Reduction reduction,
            DataType floatType) {
        Map<String, INDArray> feeds = build(config, batch, withLoss, reduction);
        if (floatType != DataType.FLOAT) {
            feeds.replaceAll((k, v) -> v.dataType() == DataType.FLOAT ? v.castTo(floatType) : v);
        }
        return feeds;
    }

    private static Map<String, INDArray> build(LlamaConfig config, Batch batch, boolean withLoss, Reduction reduction) {
        int b = batch.batchSize();
        int t = batch.seqLen();
        if (t > config.maxPositionEmbeddings()) {
            throw new MorException("sequence length " + t + " exceeds max_position_embeddings ("
                    + config.maxPositionEmbeddings() + ") of config.json");
        }
        int[] ids = new int[b * t]; // [B, T]
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                long id = batch.inputIds()[i][j];
                if (id < 0 || id >= config.vocabSize()) {
                    throw new MorException("input_ids[" + i + "][" + j + "] = " + id + " is outside the vocabulary [0, "
                            + config.vocabSize() + ")");
                }
                ids[i * t + j] = (int) id;
            }
        }
        float[] bias = new float[b * t * t]; // [B, 1, T, T]
        float[] tokenMask = new float[b * t]; // [B·T, 1]
        for (int i = 0; i < b; i++) {
            long[] mask = batch.attentionMask()[i];
            for (int q = 0; q < t; q++) {
                tokenMask[i * t + q] = mask[q] != 0 ? 1f : 0f;
                for (int k = 0; k < t; k++) {
                    bias[(i * t + q) * t + k] = batch.attends(i, q, k) ? 0f : MASKED;
                }
            }
        }
        Map<String, INDArray> feeds = new HashMap<>();
        feeds.put(LlamaGraph.INPUT_IDS, Nd4j.create(ids, new long[] {b, t}, DataType.INT));
        feeds.put(LlamaGraph.POSITION_IDS, positionIds(batch));
        feeds.put(LlamaGraph.ATTN_BIAS, Nd4j.create(bias, new long[] {b, 1, t, t}, DataType.FLOAT));
        feeds.put(LlamaGraph.TOKEN_MASK, Nd4j.create(tokenMask, new long[] {(long) b * t, 1}, DataType.FLOAT));
        if (withLoss) {
            putLabels(feeds, config, batch, reduction);
        }
        return feeds;
    }

    /**
     * The per-example placeholders of {@link dev.mor4j.core.adapter.TaskInputs}: {@code task_ids} {@code [E]} INT and
     * {@code token_example} {@code [B·T, E]} in {@code floatType}.
     *
     * @param tasks the adapter's number of tasks; ids must lie in {@code [0, tasks)}, or be −1 (no task: the base
     *              model, as {@code --task auto} uses to compare a prompt with the tasks)
     * @throws MorException when the batch has no task ids or one is out of range
     */
    public static Map<String, INDArray> tasks(Batch batch, int tasks, DataType floatType) {
        long[] ids = batch.taskIds();
        if (ids == null) {
            throw new MorException("this adapter (MoRE) needs each example's task: task_ids [" + batch.exampleCount()
                    + "], indices into its " + tasks + " tasks");
        }
        int[] intIds = new int[ids.length]; // [E]
        for (int e = 0; e < ids.length; e++) {
            if (ids[e] < -1 || ids[e] >= tasks) {
                throw new MorException("task_ids[" + e + "] = " + ids[e] + " is outside [0, " + tasks
                        + ") (the adapter's tasks)");
            }
            intIds[e] = (int) ids[e];
        }
        int[] example = batch.exampleOfToken(); // [B·T]
        INDArray tokenExample = Nd4j.zeros(floatType, example.length, ids.length); // [B·T, E]
        for (int t = 0; t < example.length; t++) {
            tokenExample.putScalar(t, example[t], 1.0);
        }
        Map<String, INDArray> feeds = new HashMap<>();
        feeds.put(dev.mor4j.core.adapter.TaskInputs.TASK_IDS, Nd4j.createFromArray(intIds));
        feeds.put(dev.mor4j.core.adapter.TaskInputs.TOKEN_EXAMPLE, tokenExample);
        return feeds;
    }

    /**
     * Rotary positions: {@code [T]} {@code 0 … T−1} shared by every row of an unpacked batch; {@code [B·T]} per
     * token ({@link Batch#positions()}, restarting at 0 with each example) of a packed one.
     */
    private static INDArray positionIds(Batch batch) {
        int t = batch.seqLen();
        if (batch.isPacked()) {
            int[] positions = batch.positions(); // [B·T]
            return Nd4j.create(positions, new long[] {positions.length}, DataType.INT);
        }
        int[] positions = new int[t]; // [T]
        for (int j = 0; j < t; j++) {
            positions[j] = j;
        }
        return Nd4j.create(positions, new long[] {t}, DataType.INT);
    }

    /**
     * Next-token targets as transformers shifts them: position t is scored against {@code labels[t+1]}; the
     * last position and every -100 are not counted, nor, in a packed batch, the last position of each example
     * (its next position belongs to the next example).
     */
    private static void putLabels(Map<String, INDArray> feeds, LlamaConfig config, Batch batch, Reduction reduction) {
        if (batch.labels() == null) {
            throw new MorException("labels are required to compute a loss");
        }
        int b = batch.batchSize();
        int t = batch.seqLen();
        long v = config.vocabSize();
        int[] ids = new int[b * t]; // [B·T]
        float[] weight = new float[b * t]; // [B·T]
        int count = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                long row = (long) i * t + j;
                boolean sameExample = !batch.isPacked() || j + 1 < t && batch.exampleOf()[i][j + 1] == batch.exampleOf()[i][j];
                long label = j + 1 < t && sameExample ? batch.labels()[i][j + 1] : Batch.IGNORE_INDEX;
                if (label == Batch.IGNORE_INDEX) {
                    continue;
                }
                if (label < 0 || label >= v) {
                    throw new MorException("labels[" + i + "][" + (j + 1) + "] = " + label
                            + " is neither -100 nor inside the vocabulary [0, " + v + ")");
                }
                ids[(int) row] = (int) label;
                weight[(int) row] = 1f;
                count++;
            }
        }
        if (reduction == Reduction.MEAN) {
            // transformers divides by the count; with nothing counted that is 0/0 = NaN
            float w = count == 0 ? Float.NaN : 1f / count;
            for (int r = 0; r < weight.length; r++) {
                weight[r] = weight[r] != 0 || count == 0 ? w : 0f;
            }
        }
        feeds.put(LlamaGraph.LABEL_IDS, Nd4j.createFromArray(ids));
        feeds.put(LlamaGraph.LABEL_WEIGHT, Nd4j.createFromArray(weight));
    }
}
