package dev.mor4j.llama.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The training examples as an endless sequence of micro-batches: epoch after epoch, each in its own seeded
 * order ({@link BatchOrder}), each batch right-padded one example per row ({@link BatchCollator}) or packed into
 * rows of at most the longest example's length ({@link PackingCollator}). Packing changes how a micro-batch is
 * laid out, never which examples form it: its loss and gradients are those of the padded micro-batch.
 *
 * <p>Micro-batch {@code mb} of optimizer step {@code k} is the {@code (k·accumulation + mb)}-th batch of that
 * sequence, counted from the start of the run. After {@link #restore}, counting continues from the saved
 * {@link DataPosition}: no batch is repeated or skipped, even if the accumulation changed. Nothing else is
 * kept, so a resumed run sees bit for bit the batches of an uninterrupted one.
 */
public final class TrainingData {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<EncodedExample> examples;
    private final BatchOrder order;
    private final int accumulation;
    private final String fingerprint;
    private final boolean packing;
    private final int rowLength;
    private long baseStep;
    private long baseMicroBatches;

    /**
     * @param examples      the examples (not copied; do not change them)
     * @param batchSize     examples per micro-batch
     * @param accumulation  micro-batches per optimizer step
     * @param seed          the run's seed (shuffling)
     * @param groupByLength group examples of similar length into batches
     * @throws MorException if there are no examples or a size is below 1
     */
    public TrainingData(List<EncodedExample> examples, int batchSize, int accumulation, long seed,
            boolean groupByLength) {
        this(examples, batchSize, accumulation, seed, groupByLength, false);
    }

    /**
     * @param packing pack each micro-batch's examples into rows of at most the longest example's length
     *                ({@link PackingCollator}) instead of padding one example per row
     * @see #TrainingData(List, int, int, long, boolean)
     */
    public TrainingData(List<EncodedExample> examples, int batchSize, int accumulation, long seed,
            boolean groupByLength, boolean packing) {
        if (examples.isEmpty()) {
            throw new MorException("no training examples: every line was bad or had no assistant token to train on");
        }
        if (accumulation < 1) {
            throw new MorException("gradient accumulation is " + accumulation + "; expected an integer ≥ 1");
        }
        this.examples = List.copyOf(examples);
        int[] lengths = new int[examples.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = examples.get(i).length();
        }
        this.order = new BatchOrder(lengths, batchSize, seed, groupByLength);
        this.accumulation = accumulation;
        this.fingerprint = fingerprint(this.examples);
        this.packing = packing;
        this.rowLength = Arrays.stream(lengths).max().orElse(1);
    }

    /** Whether micro-batches are packed ({@link PackingCollator}) rather than padded one example per row. */
    public boolean packing() {
        return packing;
    }

    /** The most tokens a row holds: the longest example's length (padded and packed rows alike). */
    public int rowLength() {
        return rowLength;
    }

    public List<EncodedExample> examples() {
        return examples;
    }

    public BatchOrder order() {
        return order;
    }

    /** Batches per epoch. */
    public int batchesPerEpoch() {
        return order.batchesPerEpoch();
    }

    /**
     * Optimizer steps of {@code epochs} passes over the data, as Hugging Face counts them:
     * {@code ceil(epochs · max(1, batchesPerEpoch / accumulation))} (integer division).
     */
    public long stepsFor(double epochs) {
        return steps(examples.size(), order.batchSize(), accumulation, epochs);
    }

    /**
     * Optimizer steps of {@code epochs} passes over {@code examples} examples (see {@link #stepsFor(double)}).
     *
     * @throws MorException if a count is below 1 or {@code epochs} is not a number > 0
     */
    public static long steps(int examples, int batchSize, int accumulation, double epochs) {
        if (!(epochs > 0) || Double.isInfinite(epochs)) {
            throw new MorException("epochs is " + epochs + "; expected a number > 0");
        }
        if (examples < 1 || batchSize < 1 || accumulation < 1) {
            throw new MorException("cannot count steps of " + examples + " examples in batches of " + batchSize
                    + " with accumulation " + accumulation + "; expected each ≥ 1");
        }
        long batches = (examples + (long) batchSize - 1) / batchSize;
        long perEpoch = Math.max(1, batches / accumulation);
        return (long) Math.ceil(epochs * perEpoch);
    }

    /** Micro-batch {@code microBatch} of 0-based optimizer step {@code step}. */
    public MicroBatch microBatch(long step, int microBatch) {
        long n = index(step, microBatch);
        long epoch = n / batchesPerEpoch();
        int index = (int) (n % batchesPerEpoch());
        List<EncodedExample> rows = new ArrayList<>();
        for (int i : order.batch(epoch, index)) {
            rows.add(examples.get(i));
        }
        Batch batch = packing ? PackingCollator.pack(rows, rowLength) : BatchCollator.collate(rows);
        return new MicroBatch(List.copyOf(rows), batch, epoch, index);
    }

    /** Where the data stands before optimizer step {@code step} (0-based) runs. */
    public DataPosition position(long step) {
        long n = index(step, 0);
        return new DataPosition(n, n / batchesPerEpoch(), (int) (n % batchesPerEpoch()), examples.size(),
                order.batchSize(), order.groupByLength(), fingerprint);
    }

    /** {@link #position(long)} as JSON, for {@code Trainer.dataPosition}. */
    public JsonNode positionJson(long step) {
        return JSON.valueToTree(position(step));
    }

    /**
     * Continues from a saved position: optimizer step {@code step} starts at its micro-batch.
     *
     * @param saved the position saved with the checkpoint of global step {@code step}
     * @throws MorException if it was saved for other data, another batch size or grouping
     */
    public void restore(DataPosition saved, long step) {
        if (saved.examples() != examples.size() || !fingerprint.equals(saved.fingerprint())) {
            throw new MorException("the checkpoint was trained on other data (" + saved.examples()
                    + " examples, fingerprint " + saved.fingerprint() + "); the data now has " + examples.size()
                    + " examples, fingerprint " + fingerprint + ". Resume with the same data file, tokenizer and"
                    + " maximum length");
        }
        if (saved.batchSize() != order.batchSize() || saved.groupByLength() != order.groupByLength()) {
            throw new MorException("the checkpoint was trained with batch size " + saved.batchSize()
                    + (saved.groupByLength() ? " grouped by length" : "") + "; now batch size " + order.batchSize()
                    + (order.groupByLength() ? " grouped by length" : "") + ". Resume with the same batching");
        }
        if (saved.microBatches() < 0 || step < 0) {
            throw new MorException("data position " + saved + " at step " + step + " is invalid");
        }
        this.baseStep = step;
        this.baseMicroBatches = saved.microBatches();
    }

    /** {@link #restore(DataPosition, long)} from the JSON saved in a checkpoint. */
    public void restore(JsonNode saved, long step, String source) {
        if (saved == null || saved.isNull()) {
            throw new MorException(source + ": 'data_position' is missing; expected the data position of a"
                    + " fine-tuning run");
        }
        DataPosition p;
        try {
            p = JSON.treeToValue(saved, DataPosition.class);
        } catch (Exception e) {
            throw new MorException(source + ": 'data_position' is not a data position: " + e.getMessage(), e);
        }
        restore(p, step);
    }

    /** The hash {@link DataPosition#fingerprint()} holds. */
    public String fingerprint() {
        return fingerprint;
    }

    private long index(long step, int microBatch) {
        if (step < baseStep || microBatch < 0 || microBatch >= accumulation) {
            throw new IllegalArgumentException("micro-batch " + microBatch + " of step " + step
                    + " is outside the data (from step " + baseStep + ", " + accumulation + " micro-batches a step)");
        }
        return baseMicroBatches + (step - baseStep) * accumulation + microBatch;
    }

    /** 64-bit FNV-1a over every example's dataset, id, tokens and labels, in order. */
    static String fingerprint(List<EncodedExample> examples) {
        long h = 0xcbf29ce484222325L;
        for (EncodedExample e : examples) {
            h = mix(h, e.dataset());
            h = mix(h, e.id());
            h = mix(h, e.inputIds());
            h = mix(h, e.labels());
        }
        return String.format("%016x", h);
    }

    private static long mix(long h, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        h = mixInt(h, b.length);
        for (byte x : b) {
            h = (h ^ (x & 0xff)) * 0x100000001b3L;
        }
        return h;
    }

    private static long mix(long h, int[] a) {
        h = mixInt(h, a.length);
        for (int v : a) {
            h = mixInt(h, v);
        }
        return h;
    }

    private static long mixInt(long h, int v) {
        for (int k = 0; k < 4; k++) {
            h = (h ^ ((v >>> (8 * k)) & 0xff)) * 0x100000001b3L;
        }
        return h;
    }
}
