package dev.mor4j.bench;

import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.train.TrainingData;
import java.util.List;

/**
 * How {@link TuluTrainingRun} batches the same examples: the micro-batches {@link TrainingData} gives a
 * fine-tuning run, one epoch of them.
 */
public enum TuluBatching {
    /** Shuffled, each batch right-padded to its longest example, one example per row: transformers' default. */
    PADDED("padded", false, false, false),
    /** Batches of similar length (Hugging Face's {@code group_by_length}), right-padded one example per row. */
    GROUP_BY_LENGTH("group-by-length", true, false, false),
    /** The shuffled batches of {@link #PADDED}, each packed into rows of at most the longest example's length. */
    PACKED("packing", false, true, false),
    /**
     * Packing with the LM head, softmax and their backward computed only where there are labels. The label-only
     * head is being built in another branch (issue #25); until it is merged this variant runs the full head, so it
     * equals {@link #PACKED}, and the report says so ({@code label_only_head_in_effect: false}).
     */
    PACKED_LABEL_ONLY("packing + label-only head", false, true, true);

    /** Whether this build computes the head only at labelled positions; flip when the label-only head lands. */
    public static final boolean LABEL_ONLY_HEAD_AVAILABLE = false;

    private final String label;
    private final boolean groupByLength;
    private final boolean packing;
    private final boolean labelOnlyHead;

    TuluBatching(String label, boolean groupByLength, boolean packing, boolean labelOnlyHead) {
        this.label = label;
        this.groupByLength = groupByLength;
        this.packing = packing;
        this.labelOnlyHead = labelOnlyHead;
    }

    /** The name in reports and on the command line. */
    public String label() {
        return label;
    }

    public boolean packing() {
        return packing;
    }

    /** Whether this variant asks for the label-only head (see {@link #LABEL_ONLY_HEAD_AVAILABLE}). */
    public boolean labelOnlyHead() {
        return labelOnlyHead;
    }

    /** The micro-batches of a run on {@code examples} with this batching (accumulation 1). */
    public TrainingData data(List<EncodedExample> examples, int batchSize, long seed) {
        return new TrainingData(examples, batchSize, 1, seed, groupByLength, packing);
    }

    /** The variant named {@code label} or by its enum name, case-insensitively. */
    public static TuluBatching parse(String name) {
        for (TuluBatching b : values()) {
            if (b.label.equalsIgnoreCase(name) || b.name().equalsIgnoreCase(name.replace('-', '_'))) {
                return b;
            }
        }
        throw new IllegalArgumentException("batching '" + name + "': expected padded, group-by-length, packing or"
                + " packed_label_only");
    }
}
