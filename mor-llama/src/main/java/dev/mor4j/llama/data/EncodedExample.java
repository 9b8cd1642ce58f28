package dev.mor4j.llama.data;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * A conversation encoded for supervised fine-tuning. The arrays are not copied: do not modify them.
 *
 * @param id       the conversation's id
 * @param dataset  the conversation's source dataset
 * @param inputIds token ids, starting with BOS, at most the maximum sequence length long
 * @param labels   same length as {@code inputIds}: the id where the loss is computed (assistant turns), and
 *                 {@link TuluEncoder#IGNORE_INDEX} elsewhere
 */
public record EncodedExample(String id, String dataset, int[] inputIds, int[] labels) implements Serializable {

    private static final long serialVersionUID = 1L;

    public EncodedExample {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(dataset, "dataset");
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException("example " + id + ": " + inputIds.length + " input ids but "
                    + labels.length + " labels");
        }
    }

    /** Number of tokens. */
    public int length() {
        return inputIds.length;
    }

    /** Number of positions that count in the loss. */
    public int trainableTokens() {
        int n = 0;
        for (int label : labels) {
            if (label != TuluEncoder.IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncodedExample e && id.equals(e.id) && dataset.equals(e.dataset)
                && Arrays.equals(inputIds, e.inputIds) && Arrays.equals(labels, e.labels);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, dataset, Arrays.hashCode(inputIds), Arrays.hashCode(labels));
    }

    @Override
    public String toString() {
        return "EncodedExample[id=" + id + ", dataset=" + dataset + ", inputIds=" + Arrays.toString(inputIds)
                + ", labels=" + Arrays.toString(labels) + "]";
    }
}
