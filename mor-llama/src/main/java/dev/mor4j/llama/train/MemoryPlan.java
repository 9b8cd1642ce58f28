package dev.mor4j.llama.train;

import dev.mor4j.core.MemoryLimit;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The estimated peak off-heap memory of a fine-tuning run, worked out before it starts, and the limit it must fit.
 *
 * <p>With {@code n = B·T} tokens of a micro-batch (B examples padded to length T; a packed micro-batch has at
 * most B rows of at most T, the longest example's length, so the plan bounds it too), hidden size {@code H},
 * intermediate size {@code I}, query heads {@code h}, vocabulary {@code V}, {@code L} layers and 4-byte floats:
 * <pre>
 *   weights      = the frozen arrays as held (2 bytes per parameter for BF16/F16 checkpoints, 4 for F32)
 *   adapters     = 5 · 4 · trainable parameters   (weights, the pass's gradients, their running sum, AdamW m and v)
 *   layer(n)     = 4 · (c_H · n · H + c_I · n · I + c_S · B · h · T²)            one layer's activations kept for backward
 *   widened      = 4 · (parameters of one layer's projections), 0 for an F32 checkpoint   (its float32 weights)
 *   head(m)      = 4 · c_V · m · V + (4 · V_b · H if lm_head is 16-bit)           logits, exp and the loss's gradient
 *   jvm          = the Java heap's maximum + 0.4 GB                               (the JVM and native libraries)
 *   blocks(m)    = 4 · (c_B · m · V_b + 4 · m · H + n · H) + (4 · V_b · H if lm_head is 16-bit)   the head by blocks
 *   without recomputation:  weights + adapters + L · (layer(n) + widened) + head(m) + jvm
 *   with recomputation:     weights + adapters + (L + 1) · 4 · n · H + layer(n) + widened + blocks(m)
 *                           + 2 · 4 · n · H + jvm
 * </pre>
 * With recomputation the frozen LM head runs outside the layers' graphs, one vocabulary block at a time
 * ({@link BlockwiseHeadLoss}), after the forward pass and before the backward pass, so the head's {@code [m, V]}
 * arrays never exist whole; its buffers (one widened block, {@code c_B} = {@value #C_BLOCK} {@code [m, V_b]} arrays
 * and the {@code [m, H]} rows) are kept from step to step and so live beside a layer's arrays.
 * where {@code m ≤ n} is the most labelled positions a micro-batch can hold (the loss runs the head on those only,
 * see {@link dev.mor4j.llama.model.LlamaGraph}): the sum of the {@code B} largest label counts of the examples, at
 * most {@code n}; and {@code V_b} is the vocabulary of the largest block a 16-bit head is held in
 * ({@link LlamaWeights#HEAD_BLOCK_PARAMETERS}), widened one block at a time.
 * Full fine-tuning ({@link #fullFineTuning}) trains every base weight in float32 (with recomputation its last
 * segment holds the head and the loss, as without: {@code layer(n) + widened + head(m)} in place of the maximum,
 * and {@code L} layer inputs): {@code adapters} is then
 * {@code 5 · 4 · P} for all {@code P} parameters (16 bytes per parameter for the weights, their gradients and AdamW's
 * two moments, and 4 for the step's gradient sum), {@code widened} is 0 (the graph reads the float32 copies, not the
 * held weights, which stay in memory as loaded), {@code head(m)} adds the LM head's gradient {@code 4 · V · H} and the
 * embedding's one-hot rows {@code [n, V]} (the lookup is a product, see
 * {@link dev.mor4j.llama.model.LlamaGraph#fullTraining}; counted twice, for the backward pass's use):
 * <pre>
 *   full fine-tuning:  head(m) += 4 · V · H + 2 · 4 · n · V,  adapters = 20 · P,  widened = 0
 * </pre>
 * The constants were set from and checked against runs with MoR on gate/up/down (docs/benchmarks.md,
 * "Full-size checkpoints"): {@value #C_HIDDEN} [n, H] arrays, {@value #C_INTERMEDIATE} [n, I] arrays and
 * {@value #C_SCORES} score arrays per layer, {@value #C_VOCAB} [n, V] arrays at the head. Adapters on more
 * projections keep a few more arrays; the estimate is meant to be within about 15 % of the measured peak.
 *
 * <p>{@link #C_VOCAB} was set when the head still ran on every position ({@code m = n}); it counts the head's
 * {@code [m, V]} arrays the same way for the labelled positions alone.
 *
 * <p>The limit is the process's {@link MemoryLimit}. Against measurements (docs/benchmarks.md, "Full-size
 * checkpoints"): LLaMA-2-7B in BF16 at 512 tokens with recomputation, plan 19.32 GB, measured peak 17.93 GB
 * resident; LLaMA-3-8B in BF16 at 512 tokens with recomputation and the blockwise head, plan 21.20 GB, measured
 * 20.21 GB resident (20.33 GB RSS); 2-layer LLaMA-2-7B and LLaMA-3-8B shapes (head inside the graph), plan 6.46
 * and 11.63 GB, measured 3.97 and 7.87 GB.
 *
 * @param weightBytes          frozen weights as held
 * @param adapterBytes         adapters, gradients and AdamW state
 * @param activationBytes      activations without recomputation (all layers, the head, and widened weights)
 * @param recomputeBytes       activations with recomputation (layer inputs, one layer, the head)
 * @param jvmBytes             the JVM itself: its heap at its maximum and its own memory ({@link MemoryLimit#jvmBytes()})
 * @param limitBytes           what the whole process may hold
 * @param limitSource          where the limit comes from, for messages
 * @param trainsBase           a plan of full fine-tuning: {@code adapterBytes} are every base weight's
 */
public record MemoryPlan(long weightBytes, long adapterBytes, long activationBytes, long recomputeBytes,
        long jvmBytes, long limitBytes, String limitSource, boolean trainsBase) {

    /** {@code [n, H]} arrays a decoder layer keeps for its backward pass (norms, attention, MLP, adapters). */
    public static final double C_HIDDEN = 24;
    /** {@code [n, I]} arrays a decoder layer keeps (gate, up, their product, SiLU, adapter deltas). */
    public static final double C_INTERMEDIATE = 9;
    /** {@code [B, h, T, T]} arrays a decoder layer keeps (scores, softmax; two causal blocks keep 3/4 of each). */
    public static final double C_SCORES = 2.5;
    /**
     * {@code [n, V]} arrays at the head (logits, exp, exp less the label, and the session's cached copies), for
     * {@code n} labelled positions: counted for every position of the micro-batch, the most there can be.
     */
    public static final double C_VOCAB = 7;
    /** {@code [m, V_b]} arrays of the head computed one vocabulary block at a time (logits, their maximum, exp). */
    public static final double C_BLOCK = 2;

    /** Headroom on top of the estimate for fragmentation and small arrays. */
    static final double MARGIN = 1.10;

    /**
     * The plan for micro-batches of {@code batchSize} examples of at most {@code seqLen} tokens.
     *
     * @param trainableParameters the adapters' trainable parameter count
     */
    public static MemoryPlan of(LlamaWeights weights, long trainableParameters, int batchSize, int seqLen) {
        return of(weights, trainableParameters, batchSize, seqLen, (long) batchSize * seqLen);
    }

    /**
     * The plan for micro-batches of {@code batchSize} examples of at most {@code seqLen} tokens, of which at most
     * {@code labelledPositions} carry a label.
     *
     * @param trainableParameters the adapters' trainable parameter count
     */
    public static MemoryPlan of(LlamaWeights weights, long trainableParameters, int batchSize, int seqLen,
            long labelledPositions) {
        return plan(weights, trainableParameters, batchSize, seqLen, labelledPositions, false);
    }

    /**
     * The plan of full fine-tuning ({@link dev.mor4j.llama.model.TrainableBase}) for micro-batches of {@code batchSize}
     * examples of at most {@code seqLen} tokens: every base weight trained in float32.
     */
    public static MemoryPlan fullFineTuning(LlamaWeights weights, int batchSize, int seqLen) {
        return fullFineTuning(weights, batchSize, seqLen, (long) batchSize * seqLen);
    }

    /** As {@link #fullFineTuning(LlamaWeights, int, int)}, with at most {@code labelledPositions} labelled. */
    public static MemoryPlan fullFineTuning(LlamaWeights weights, int batchSize, int seqLen, long labelledPositions) {
        long parameters = 0;
        for (long[] shape : LlamaWeights.expectedShapes(weights.config()).values()) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            parameters += n;
        }
        return plan(weights, parameters, batchSize, seqLen, labelledPositions, true);
    }

    private static MemoryPlan plan(LlamaWeights weights, long trainableParameters, int batchSize, int seqLen,
            long labelledPositions, boolean trainsBase) {
        LlamaConfig c = weights.config();
        long weightBytes = 0;
        long layerParams = 0;
        boolean sixteen = false;
        for (String name : weights.linearNames()) {
            FrozenLinear f = weights.linear(name);
            weightBytes += f.storedBytes();
            sixteen |= f.storedType() != f.dataType();
            if (name.startsWith("model.layers.0.")) {
                layerParams += f.parameters();
            }
        }
        if (!c.tieWordEmbeddings()) {
            weightBytes += bytes(weights.embedTokens());
        }
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            weightBytes += bytes(weights.inputNorm(l)) + bytes(weights.postAttentionNorm(l));
        }
        weightBytes += bytes(weights.finalNorm());
        long adapterBytes = 5L * 4 * trainableParameters;
        double n = (double) batchSize * seqLen;
        double layer = 4 * (C_HIDDEN * n * c.hiddenSize() + C_INTERMEDIATE * n * c.intermediateSize()
                + C_SCORES * batchSize * c.numAttentionHeads() * (double) seqLen * seqLen);
        double widened = sixteen && !trainsBase ? 4.0 * layerParams : 0;
        double m = Math.min(n, Math.max(1, labelledPositions));
        FrozenLinear lmHead = weights.linear("lm_head");
        double head = 4 * C_VOCAB * m * c.vocabSize()
                + (trainsBase ? 4.0 * c.vocabSize() * c.hiddenSize() + 2 * 4 * n * c.vocabSize() // gradient, one-hot rows
                        : lmHead.storedType() != weights.dataType() ? 4.0 * lmHead.largestBlockParameters() : 0);
        int layers = c.numHiddenLayers();
        long whole = (long) (MARGIN * (layers * (layer + widened) + head));
        long recompute;
        if (trainsBase) { // the last segment ends in the loss, the head inside it
            recompute = (long) (MARGIN * (layers * 4 * n * c.hiddenSize() + layer + widened + head
                    + 2 * 4 * n * c.hiddenSize()));
        } else { // the head outside the graphs, one vocabulary block at a time (BlockwiseHeadLoss)
            double blockRows = (double) lmHead.largestBlockParameters() / c.hiddenSize(); // V_b
            double blockwiseHead = 4 * (C_BLOCK * m * blockRows + 4 * m * c.hiddenSize() + n * c.hiddenSize())
                    + (lmHead.storedType() != weights.dataType() ? 4.0 * lmHead.largestBlockParameters() : 0);
            // the head's buffers are kept from step to step (BlockwiseHeadLoss), so they live beside a layer's arrays
            recompute = (long) (MARGIN * ((layers + 1) * 4 * n * c.hiddenSize() + layer + widened + blockwiseHead
                    + 2 * 4 * n * c.hiddenSize()));
        }
        MemoryLimit limit = MemoryLimit.ofProcess();
        return new MemoryPlan(weightBytes, adapterBytes, whole, recompute, MemoryLimit.jvmBytes(), limit.bytes(),
                limit.source(), trainsBase);
    }

    static long bytes(INDArray a) {
        return a.length() * a.dataType().width();
    }

    /** This plan against another limit. */
    public MemoryPlan withLimit(long bytes, String source) {
        return new MemoryPlan(weightBytes, adapterBytes, activationBytes, recomputeBytes, jvmBytes, bytes, source,
                trainsBase);
    }

    /** The estimated peak without recomputation. */
    public long peakWithoutRecompute() {
        return weightBytes + adapterBytes + activationBytes + jvmBytes;
    }

    /** The estimated peak with recomputation. */
    public long peakWithRecompute() {
        return weightBytes + adapterBytes + recomputeBytes + jvmBytes;
    }

    /** The estimated peak of a run with or without recomputation. */
    public long peak(boolean recompute) {
        return recompute ? peakWithRecompute() : peakWithoutRecompute();
    }

    public boolean fits(boolean recompute) {
        return peak(recompute) <= limitBytes;
    }

    /** A few lines for the user: the parts, both peaks and the limit. */
    public String format(boolean recompute) {
        return String.format(Locale.ROOT, "memory plan: " + (trainsBase
                ? "weights as loaded %s, trained weights + gradients + AdamW %s" : "frozen weights %s, adapters + AdamW %s")
                + ", activations %s"
                + " without recomputation / %s with, JVM %s; peak %s (%s), limit %s (%s)",
                gb(weightBytes), gb(adapterBytes), gb(activationBytes), gb(recomputeBytes), gb(jvmBytes),
                gb(peak(recompute)),
                recompute ? "with recomputation" : "without recomputation", gb(limitBytes), limitSource);
    }

    static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }
}
