package dev.mor4j.llama.train;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import java.util.Arrays;
import java.util.List;

/**
 * Pads encoded examples on the right into one {@link Batch}, as open-instruct's
 * {@code DataCollatorForSeq2Seq(padding="longest")} does: every row is as long as the batch's longest example;
 * padding has token id {@value #PAD_ID}, attention 0 and label {@link Batch#IGNORE_INDEX}, so it neither attends
 * nor counts in the loss.
 */
public final class BatchCollator {

    /** The token id of padding positions (LLaMA tokenizers have no pad token; its value never matters). */
    public static final long PAD_ID = 0;

    private BatchCollator() {
    }

    /**
     * @param examples at least one example, each with at least one token
     * @return {@code input_ids}, {@code attention_mask} and {@code labels}, each {@code [B][T_max]}
     */
    public static Batch collate(List<EncodedExample> examples) {
        if (examples.isEmpty()) {
            throw new MorException("cannot build a batch from no examples");
        }
        int t = 0;
        for (EncodedExample e : examples) {
            if (e.length() == 0) {
                throw new MorException("example " + e.id() + " has no tokens; expected at least BOS");
            }
            t = Math.max(t, e.length());
        }
        int b = examples.size();
        long[][] ids = new long[b][t]; // [B, T]
        long[][] mask = new long[b][t]; // [B, T]
        long[][] labels = new long[b][t]; // [B, T]
        for (int i = 0; i < b; i++) {
            EncodedExample e = examples.get(i);
            Arrays.fill(ids[i], PAD_ID);
            Arrays.fill(labels[i], Batch.IGNORE_INDEX);
            for (int j = 0; j < e.length(); j++) {
                ids[i][j] = e.inputIds()[j];
                mask[i][j] = 1;
                labels[i][j] = e.labels()[j];
            }
        }
        return new Batch(ids, mask, labels);
    }
}
