package dev.mor4j.llama.train;

import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.llama.model.LlamaGraph;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The causal-LM loss over a frozen LM head and its gradient with respect to the final hidden states, computed
 * eagerly one vocabulary block of the head at a time, so that no {@code [L, V]} array ever exists: at vocabulary
 * 128256 the logits, their exponentials and the loss's gradient of a few hundred labelled positions are gigabytes,
 * and this is where a layer-by-layer training step would otherwise peak.
 *
 * <p>With the labelled rows {@code h = x[rows]} {@code [L, H]} of the final (normed) hidden states, labels
 * {@code y} {@code [L]}, row weights {@code w} {@code [L]} ({@code 1/count} for the mean, 1 for the sum), and the
 * head {@code W} {@code [V, H]} held in blocks {@code W_1 … W_k} of {@code V_i} rows ({@link FrozenLinear}):
 * <pre>
 *   z_i  = h W_iᵀ                                  [L, V_i]   block i's logits
 *   M    = max over blocks so far of rowmax(z_i)   [L]        running maximum
 *   S    = Σ_i Σ_v exp(z_i − M)                    [L]        rescaled by exp(M_old − M) when M grows
 *   A    = Σ_i exp(z_i − M) W_i                    [L, H]     rescaled likewise
 *   loss = Σ_l w_l · (M_l + log S_l − z[l, y_l])
 *   g_l  = ∂loss/∂h_l = w_l · (A_l / S_l − W[y_l])             softmax-weighted head rows less the label's row
 * </pre>
 * and {@code G = ∂loss/∂x} {@code [B·T, H]} is {@code g_l} at row {@code rows_l}, zero elsewhere (labelled rows
 * are distinct). These are the values of {@link LlamaGraph}'s loss ({@code LabelledLoss}), which computes the same
 * closed form over whole {@code [L, V]} arrays; the running maximum (the "online softmax") changes only the
 * rounding. Each block is widened into the same buffer and used for its two products before the next, so the
 * head's memory is one widened block and a few {@code [L, V_i]} arrays. These buffers are kept from one call to the
 * next and grown when a call has more labelled positions: on a virtual machine a fresh array's first touch of its
 * pages costs about 4 ms per megabyte, 1 s for one widened block of LLaMA-3's head (a widening into warm memory
 * takes 10 ms). {@code L} may be 0: the loss is 0 and so is {@code G}. One instance serves one thread.
 */
final class BlockwiseHeadLoss implements AutoCloseable {

    /** The loss's value and its gradient with respect to the final hidden states. */
    record Result(double loss, INDArray gradient) { // gradient: [B·T, H], the caller's to close
    }

    private final FrozenLinear head;
    private final long width; // H
    private final long blockRows; // V_b: the largest block's rows
    private final DataType computeType;
    private INDArray wide; // [H · V_b] flat: the block being used, widened (16-bit heads only)
    private INDArray logits; // [capacity · V_b] flat: z_i, then exp(z_i − M) in place
    private INDArray rowsBuffer; // [4 · capacity · H] flat: h, A, W[y], and a block's product
    private long capacity; // labelled rows the buffers hold

    /** @param head the LM head, {@code [H] → [V]}, frozen */
    BlockwiseHeadLoss(FrozenLinear head) {
        this.head = head;
        this.width = head.inFeatures();
        this.blockRows = head.largestBlockParameters() / head.inFeatures();
        this.computeType = head.dataType();
    }

    /**
     * @param hidden the final hidden states after the final norm {@code [B·T, H]}, in the head's compute type
     * @param feeds  a batch's feeds holding {@link LlamaGraph#LABEL_ROWS}, {@link LlamaGraph#LABEL_IDS} and
     *               {@link LlamaGraph#LABEL_WEIGHT} (each {@code [L]})
     */
    Result compute(INDArray hidden, Map<String, INDArray> feeds) {
        DataType dt = computeType;
        int[] rows = feeds.get(LlamaGraph.LABEL_ROWS).toIntVector(); // [L]
        int[] labels = feeds.get(LlamaGraph.LABEL_IDS).toIntVector(); // [L]
        INDArray weight = feeds.get(LlamaGraph.LABEL_WEIGHT).castTo(dt).reshape(-1, 1); // [L, 1]
        int count = rows.length;
        INDArray gradient = Nd4j.zeros(dt, hidden.size(0), width); // [B·T, H]
        if (count == 0) {
            return new Result(0, gradient);
        }
        ensureCapacity(count);
        long rowBlock = count * width;
        INDArray h = rowView(0, count); // [L, H]
        for (int l = 0; l < count; l++) {
            h.putRow(l, hidden.getRow(rows[l]));
        }
        INDArray acc = rowView(1, count).assign(0); // [L, H]: A
        INDArray labelRows = rowView(2, count); // [L, H]: W[y_l]
        INDArray part = rowView(3, count); // [L, H]
        INDArray max = null; // [L, 1]: M
        INDArray sum = null; // [L, 1]: S
        double[] picked = new double[count]; // z[l, y_l]
        long from = 0;
        for (int i = 0; i < head.blocks(); i++) {
            INDArray stored = head.storedBlockTransposed(i); // [H, V_i]
            long cols = stored.size(1);
            INDArray wt = stored.dataType() == dt ? stored
                    : flatView(wide, width * cols).reshape('c', width, cols).assign(stored); // [H, V_i]
            long to = from + cols;
            INDArray z = flatView(logits, count * cols).reshape('c', count, cols); // [L, V_i]
            Nd4j.gemm(h, wt, z, false, false, 1.0, 0.0);
            for (int l = 0; l < count; l++) {
                if (labels[l] >= from && labels[l] < to) {
                    picked[l] = z.getDouble(l, labels[l] - from);
                    labelRows.putRow(l, wt.getColumn(labels[l] - from));
                }
            }
            INDArray blockMax = z.max(true, 1); // [L, 1]
            if (max == null) {
                max = blockMax;
            } else {
                INDArray newMax = Transforms.max(max, blockMax, true); // [L, 1]
                INDArray rescale = Transforms.exp(max.subi(newMax), false); // [L, 1]: exp(M_old − M), in place
                sum.muli(rescale);
                acc.muliColumnVector(rescale);
                rescale.close();
                blockMax.close();
                max = newMax;
            }
            INDArray e = Transforms.exp(z.subiColumnVector(max), false); // [L, V_i]: exp(z_i − M), in place of z
            INDArray blockSum = e.sum(true, 1); // [L, 1]
            if (sum == null) {
                sum = blockSum;
            } else {
                sum.addi(blockSum);
                blockSum.close();
            }
            Nd4j.gemm(e, wt, part, false, true, 1.0, 0.0); // [L, H] = e W_i
            acc.addi(part);
            from = to;
        }
        INDArray lse = Transforms.log(sum, true).addi(max); // [L, 1]
        double loss = 0;
        for (int l = 0; l < count; l++) {
            loss += weight.getDouble(l, 0) * (lse.getDouble(l, 0) - picked[l]);
        }
        INDArray g = acc.diviColumnVector(sum).subi(labelRows).muliColumnVector(weight); // [L, H]
        for (int l = 0; l < count; l++) {
            gradient.putRow(rows[l], g.getRow(l));
        }
        for (INDArray a : new INDArray[] {max, sum, lse}) {
            a.close();
        }
        return new Result(loss, gradient);
    }

    /** Grows the buffers to hold {@code count} labelled rows (a widened block is allocated once). */
    private void ensureCapacity(int count) {
        if (wide == null && head.storedType() != computeType) {
            wide = Nd4j.create(computeType, width * blockRows);
        }
        if (count <= capacity) {
            return;
        }
        if (logits != null) {
            logits.close();
            rowsBuffer.close();
        }
        capacity = Math.max(count, capacity + capacity / 2);
        logits = Nd4j.create(computeType, capacity * blockRows);
        rowsBuffer = Nd4j.create(computeType, 4 * capacity * width);
    }

    /** Part {@code k} of the rows buffer as a {@code [count, H]} array. */
    private INDArray rowView(int k, int count) {
        long start = k * capacity * width;
        return rowsBuffer.get(NDArrayIndex.interval(start, start + count * width)).reshape('c', count, width);
    }

    private static INDArray flatView(INDArray flat, long length) {
        return flat.get(NDArrayIndex.interval(0, length));
    }

    /** Releases the buffers; the next call allocates them again. */
    @Override
    public void close() {
        for (INDArray a : new INDArray[] {wide, logits, rowsBuffer}) {
            if (a != null) {
                a.close();
            }
        }
        wide = null;
        logits = null;
        rowsBuffer = null;
        capacity = 0;
    }
}
