package dev.mor4j.llama.model;

import dev.mor4j.core.nn.LeanProduct;
import dev.mor4j.core.nn.StopGradient;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterNdSub;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Two references for {@link LabelledLoss}: the causal-LM mean loss over the logits of all {@code B·T} positions,
 * added to a {@link LlamaGraph} built without a loss, with the labels as {@code [B·T]} placeholders
 * ({@link #IDS}: the label, 0 where none; {@link #WEIGHT}: 1/count where counted, else 0).
 * <ul>
 *   <li>{@link #closedForm}: the computation the graph ran before its head was limited to labelled rows, kept
 *       here as it was: the head, the {@code exp} and the loss's closed-form gradient at every position.</li>
 *   <li>{@link #autodiff}: an independent one, {@code Σ_t w_t (logsumexp(z_t) − z_t[y_t])} with a one-hot label
 *       pick, differentiated by SameDiff through the graph's own {@code logits}.</li>
 * </ul>
 * Either is the graph's loss variable {@link #LOSS}.
 */
final class EveryPositionLoss {

    static final String IDS = "reference_ids";
    static final String WEIGHT = "reference_weight";
    static final String LOSS = "reference_loss";

    private EveryPositionLoss() {
    }

    /** The former closed-form loss of {@code graph} (built without a loss) over every position. */
    static void closedForm(LlamaGraph graph) {
        SameDiff sd = graph.sd();
        DataType dt = graph.weights().dataType();
        SDVariable hidden = sd.getVariable("hidden." + graph.weights().config().numHiddenLayers()); // [B·T, H]
        SDVariable headT = graph.weights().linear("lm_head").weightConstant(sd); // [H, V]
        SDVariable labelIds = sd.placeHolder(IDS, DataType.INT, -1); // [B·T]
        SDVariable labelWeight = sd.placeHolder(WEIGHT, dt, -1); // [B·T]
        SDVariable logits = LeanProduct.of(sd, StopGradient.of(sd, hidden), headT, headT.getShape()[1]); // [B·T, V]
        SDVariable max = logits.max(true, 1).castTo(DataType.INT).castTo(dt); // [B·T, 1]
        SDVariable exp = sd.math.exp(logits.sub(max)); // [B·T, V]
        SDVariable sumExp = exp.sum(true, 1); // [B·T, 1]
        SDVariable lse = sd.math.log(sumExp).add(max); // [B·T, 1]
        SDVariable rows = sd.range(sd.constant(0), sd.sizeAt(labelIds, 0).castTo(DataType.INT), sd.constant(1),
                DataType.INT); // [B·T]
        SDVariable at = sd.stack(1, rows, labelIds); // [B·T, 2]
        SDVariable perToken = sd.reshape(lse, -1).sub(sd.gatherNd(logits, at)); // [B·T]
        SDVariable expMinusLabel = new ScatterNdSub(sd, exp, at, sd.reshape(sumExp, -1)).outputVariable(); // [B·T, V]
        SDVariable gradient = sd.mmul(expMinusLabel, headT, false, true, false).div(sumExp)
                .mul(sd.reshape(labelWeight, -1, 1)); // [B·T, H]
        SDVariable loss = perToken.mul(labelWeight).sum(); // scalar
        SDVariable surrogate = hidden.mul(gradient).sum(); // scalar
        sd.setLossVariables(sd.identity(LOSS, loss.add(surrogate.sub(StopGradient.of(sd, surrogate)))));
    }

    /** An independent loss of {@code graph} (built without a loss) over every position, for SameDiff to differentiate. */
    static void autodiff(LlamaGraph graph) {
        SameDiff sd = graph.sd();
        DataType dt = graph.weights().dataType();
        SDVariable logits = sd.getVariable(LlamaGraph.LOGITS); // [B·T, V]
        SDVariable ids = sd.placeHolder(IDS, DataType.INT, -1); // [B·T]
        SDVariable weight = sd.placeHolder(WEIGHT, dt, -1); // [B·T]
        SDVariable max = StopGradient.of(sd, logits.max(true, 1)); // [B·T, 1]: any shift gives the same loss
        SDVariable lse = sd.math.log(sd.math.exp(logits.sub(max)).sum(true, 1)).add(max); // [B·T, 1]
        SDVariable picked = logits.mul(sd.oneHot(ids, graph.weights().config().vocabSize()).castTo(dt))
                .sum(true, 1); // [B·T, 1]
        SDVariable perToken = sd.reshape(lse.sub(picked), -1); // [B·T]
        sd.setLossVariables(sd.identity(LOSS, perToken.mul(weight).sum()));
    }

    /** The placeholders {@link #IDS} and {@link #WEIGHT} {@code [B·T]} of {@code batch}, in {@code dt}. */
    static Map<String, INDArray> feeds(Batch batch, DataType dt) {
        int b = batch.batchSize();
        int t = batch.seqLen();
        int[] labels = new int[b * t]; // [B·T]
        float[] w = new float[b * t]; // [B·T]
        int count = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j + 1 < t; j++) {
                long y = batch.labels()[i][j + 1];
                if (y != Batch.IGNORE_INDEX) {
                    labels[i * t + j] = (int) y;
                    w[i * t + j] = 1;
                    count++;
                }
            }
        }
        for (int r = 0; r < w.length; r++) {
            w[r] *= 1f / count; // in float32, as LlamaFeeds and transformers weigh them
        }
        Map<String, INDArray> feeds = new HashMap<>();
        feeds.put(IDS, Nd4j.createFromArray(labels));
        feeds.put(WEIGHT, Nd4j.createFromArray(w).castTo(dt));
        return feeds;
    }
}
