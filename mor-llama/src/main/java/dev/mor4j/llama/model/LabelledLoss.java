package dev.mor4j.llama.model;

import dev.mor4j.core.nn.StopGradient;
import java.util.List;
import java.util.function.UnaryOperator;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterNdSub;

/**
 * The causal-LM loss of a {@link LlamaGraph}, with the LM head, the log-sum-exp and the loss's gradient computed on
 * the labelled positions only.
 *
 * <p>Of the {@code B·T} positions, only the {@code L} whose next token is a label (placeholder
 * {@link LlamaGraph#LABEL_ROWS} {@code [L]}: their rows of {@code [B·T]}) enter the loss. Their final hidden states
 * are gathered, {@code h_l = x[rows_l]} {@code [L, H]}, and only they go through the head: with a prompt/answer
 * split most positions carry no label, and the head's {@code [·, V]} arrays and products are the largest of a step.
 * The loss is transformers' {@code Σ_l w_l · (logsumexp(z_l) − z_l[y_l])}, {@code z_l = h_l W_lmᵀ}, with
 * {@code w_l = 1/count} (mean) or 1 (sum); positions without a label contribute nothing to it or its gradient, so
 * leaving them out changes neither. The label's logit is read at {@code (l, y_l)} ({@code gather_nd}, which is never
 * differentiated: the logits have no gradient path); no {@code [L, V]} one-hot is built.
 *
 * <p>The loss's value has no gradient path (the logits come from a detached copy of {@code h}). Its gradient with
 * respect to {@code h} is known in closed form, {@code g_l = w_l · (Σ_v softmax(z_l)_v W_lm[v] − W_lm[y_l])}, and is
 * computed in the forward pass from the same {@code exp} that gives the loss, with {@code Σexp} subtracted at each
 * label ({@code scatter_nd_sub}) so that the label's row comes out of the same product instead of a strided gather
 * of lm_head columns: one {@code [L, V]·[V, H]} product, the one the backward pass of the lm_head would otherwise
 * run, and nothing over {@code [·, V]} in the backward pass (which in M2.1 would compute the {@code exp} a second
 * time and reduce a gradient for the shift). The rows {@code g_l} are scattered into {@code G} {@code [B·T, H]}
 * ({@code G[rows_l] = g_l}, zero elsewhere) in the forward pass too, since M2.1's {@code gather} has no working
 * backward, and enter {@code total_loss} as {@code s − stop(s)} with {@code s = Σ x ⊙ G}: exactly 0 in value,
 * gradient {@code G} with respect to {@code x}. So {@code loss} is for reading and {@code total_loss} is the one to
 * differentiate; asking for {@code loss} alone does not run the extra product.
 *
 * <p>With a trainable LM head (full fine-tuning) the loss's gradient with respect to {@code W_lm} {@code [V, H]} is
 * known in closed form too, {@code G = Σ_l w_l · (softmax(z_l) − e_{y_l}) ⊗ h_l = Pᵀ · h}, {@code P} {@code [L, V]}
 * the rows {@code w_l · (exp_l − [v = y_l]·Σexp_l) / Σexp_l} of the same {@code exp}: one {@code [V, L]·[L, H]}
 * product. It enters {@code total_loss} as {@code t − stop(t)} with {@code t = Σ W_lm ⊙ G}: 0 in value, gradient
 * {@code G} with respect to {@code W_lm}. Every product of the loss then reads the head through a copy without a
 * gradient path, so that {@code G} is its only gradient from the loss.
 *
 * <p>{@code L} may be 0 (a batch without labels under the sum reduction): the loss is then 0 and so is its gradient.
 */
final class LabelledLoss {

    private LabelledLoss() {
    }

    /**
     * Adds the loss's placeholders ({@link LlamaGraph#LABEL_ROWS}, {@link LlamaGraph#LABEL_IDS} {@code [L]} INT,
     * {@link LlamaGraph#LABEL_WEIGHT} {@code [L]} in the graph's type), {@link LlamaGraph#LOSS} and
     * {@link LlamaGraph#TOTAL_LOSS} (the loss plus {@code auxLosses}, set as the graph's loss variable).
     *
     * @param hidden    the final hidden states {@code [B·T, H]} (after the final norm)
     * @param head      the LM head, {@code [n, H] → [n, V]}
     * @param headBack  the product with the LM head's weight, {@code [n, V] → [n, H]}: {@code e · W_lm}
     * @param trainable the LM head's weight {@code [V, H]} when it is trained (its gradient is then added), else null;
     *                  {@code head} and {@code headBack} must then read it through a copy without a gradient path
     * @param auxLosses scalars added to {@code total_loss} (router load balancing)
     */
    static void define(SameDiff sd, SDVariable hidden, UnaryOperator<SDVariable> head,
            UnaryOperator<SDVariable> headBack, SDVariable trainable, List<SDVariable> auxLosses) {
        DataType dt = hidden.dataType();
        SDVariable labelRows = sd.placeHolder(LlamaGraph.LABEL_ROWS, DataType.INT, -1); // [L]
        SDVariable labelIds = sd.placeHolder(LlamaGraph.LABEL_IDS, DataType.INT, -1); // [L]
        SDVariable labelWeight = sd.placeHolder(LlamaGraph.LABEL_WEIGHT, dt, -1); // [L]
        SDVariable labelled = sd.gather(hidden, labelRows, 0); // [L, H]
        SDVariable fixedLabelled = StopGradient.of(sd, labelled); // [L, H], no gradient path
        SDVariable logits = head.apply(fixedLabelled); // [L, V], no gradient path
        // Any shift m gives the same log-sum-exp; the row maximum's integer part keeps exp from overflowing.
        SDVariable max = logits.max(true, 1).castTo(DataType.INT).castTo(dt); // [L, 1]
        SDVariable exp = sd.math.exp(logits.sub(max)); // [L, V]
        SDVariable sumExp = exp.sum(true, 1); // [L, 1]
        SDVariable lse = sd.math.log(sumExp).add(max); // [L, 1]
        SDVariable rows = sd.range(sd.constant(0), sd.sizeAt(labelIds, 0).castTo(DataType.INT), sd.constant(1),
                DataType.INT); // [L]
        SDVariable at = sd.stack(1, rows, labelIds); // [L, 2]: (l, y_l)
        SDVariable picked = sd.gatherNd(logits, at); // [L]: z_l[y_l]
        SDVariable perToken = sd.reshape(lse, -1).sub(picked); // [L]
        // Σ_v softmax_v W_lm[v] − W_lm[y_l] = Σ_v (exp_v − [v = y_l]·Σexp) W_lm[v] / Σexp: one product
        SDVariable expMinusLabel = new ScatterNdSub(sd, exp, at, sd.reshape(sumExp, -1)).outputVariable(); // [L, V]
        SDVariable rowWeight = sd.reshape(labelWeight, -1, 1); // [L, 1]
        SDVariable gradient = headBack.apply(expMinusLabel).div(sumExp).mul(rowWeight); // [L, H]
        SDVariable loss = sd.identity(LlamaGraph.LOSS, perToken.mul(labelWeight).sum()); // scalar

        // M2.1's gather has no working backward: the rows are scattered into a [B·T, H] gradient here instead
        SDVariable zeros = sd.fill(sd.shape(hidden), dt, 0); // [B·T, H]
        SDVariable scattered = sd.scatterAdd(zeros, labelRows, gradient); // [B·T, H]: g at the labelled rows, else 0
        SDVariable surrogate = hidden.mul(scattered).sum(); // scalar; d/d hidden = scattered
        SDVariable total = loss.add(surrogate.sub(StopGradient.of(sd, surrogate))); // scalar
        if (trainable != null) {
            SDVariable p = expMinusLabel.div(sumExp).mul(rowWeight); // [L, V]: w_l · (softmax(z_l) − e_{y_l})
            SDVariable headGradient = sd.mmul(p, fixedLabelled, true, false, false); // [V, H] = Pᵀ · h
            SDVariable t = trainable.mul(headGradient).sum(); // scalar; d/dW_lm = headGradient
            total = total.add(t.sub(StopGradient.of(sd, t)));
        }
        for (SDVariable aux : auxLosses) {
            total = total.add(aux);
        }
        sd.setLossVariables(sd.identity(LlamaGraph.TOTAL_LOSS, total));
    }
}
