package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mor4j.core.TestData;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.llama.model.LlamaGraph;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The blockwise LM-head loss against the causal-LM loss written out in float64 loops here: {@code Σ_l w_l ·
 * (log Σ_v exp z_lv − z_{l,y_l})} with {@code z = h Wᵀ}, and its gradient {@code w_l · (Σ_v softmax(z_l)_v W_v −
 * W_{y_l})} at the labelled rows, zero elsewhere; with the head in one block and in uneven blocks (a BF16 weight).
 */
class BlockwiseHeadLossTest {

    private static final int ROWS = 7; // B·T
    private static final int H = 6;
    private static final int V = 23;

    @Test
    void oneBlockAndSeveralBlocksGiveTheLossAndGradientOfTheFormula() {
        SplittableRandom rng = new SplittableRandom(5);
        INDArray w = Nd4j.create(DataType.DOUBLE, V, H); // [V, H]
        for (int v = 0; v < V; v++) {
            for (int j = 0; j < H; j++) {
                w.putScalar(v, j, 3 * (rng.nextDouble() - 0.5));
            }
        }
        INDArray w16 = w.castTo(DataType.BFLOAT16); // [V, H]
        double[][] wd = w16.castTo(DataType.DOUBLE).toDoubleMatrix(); // the weights as held
        INDArray hidden = Nd4j.create(DataType.DOUBLE, ROWS, H); // [B·T, H]
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < H; j++) {
                hidden.putScalar(r, j, 2 * (rng.nextDouble() - 0.5));
            }
        }
        int[] rows = {0, 2, 3, 6};
        int[] labels = {22, 0, 11, 12};
        double[] weights = {0.25, 0.25, 0.25, 0.25};
        Map<String, INDArray> feeds = Map.of(
                LlamaGraph.LABEL_ROWS, Nd4j.createFromArray(rows),
                LlamaGraph.LABEL_IDS, Nd4j.createFromArray(labels),
                LlamaGraph.LABEL_WEIGHT, Nd4j.createFromArray(weights).castTo(DataType.FLOAT));

        double loss = 0;
        double[][] grad = new double[ROWS][H];
        double[][] h = hidden.toDoubleMatrix();
        for (int l = 0; l < rows.length; l++) {
            double[] z = new double[V];
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                for (int j = 0; j < H; j++) {
                    z[v] += h[rows[l]][j] * wd[v][j];
                }
                max = Math.max(max, z[v]);
            }
            double sum = 0;
            for (int v = 0; v < V; v++) {
                sum += Math.exp(z[v] - max);
            }
            double wl = (float) weights[l]; // the label weight is fed as FLOAT
            loss += wl * (max + Math.log(sum) - z[labels[l]]);
            for (int v = 0; v < V; v++) {
                double p = Math.exp(z[v] - max) / sum - (v == labels[l] ? 1 : 0);
                for (int j = 0; j < H; j++) {
                    grad[rows[l]][j] += wl * p * wd[v][j];
                }
            }
        }

        for (long maxBlock : new long[] {V * H, 5L * H, 9L * H}) {
            FrozenLinear head = FrozenLinear.resident("lm_head", w16, DataType.DOUBLE, maxBlock);
            BlockwiseHeadLoss blockwise = new BlockwiseHeadLoss(head);
            BlockwiseHeadLoss.Result r = blockwise.compute(hidden, feeds);
            assertEquals(loss, r.loss(), 1e-12 * Math.abs(loss), head.blocks() + " blocks");
            double[][] g = r.gradient().toDoubleMatrix();
            for (int row = 0; row < ROWS; row++) {
                for (int j = 0; j < H; j++) {
                    assertEquals(grad[row][j], g[row][j], 1e-12, head.blocks() + " blocks, row " + row + ", " + j);
                }
            }
            BlockwiseHeadLoss.Result again = blockwise.compute(hidden, feeds.entrySet().stream().collect(
                    java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get(
                            org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)))));
            assertEquals(0.0, TestData.maxAbsDiff(r.gradient().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)),
                    again.gradient().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1))), "buffers reused");
            blockwise.close();
            assertEquals(maxBlock == V * H ? 1 : (int) Math.ceil(V / (double) (maxBlock / H)), head.blocks());
        }
    }

    @Test
    void noLabelsGiveZeroLossAndGradient() {
        INDArray hidden = Nd4j.rand(DataType.DOUBLE, ROWS, H); // [B·T, H]
        FrozenLinear head = FrozenLinear.resident("lm_head", Nd4j.rand(DataType.DOUBLE, V, H), DataType.DOUBLE);
        Map<String, INDArray> feeds = Map.of(
                LlamaGraph.LABEL_ROWS, Nd4j.create(DataType.INT, 0),
                LlamaGraph.LABEL_IDS, Nd4j.create(DataType.INT, 0),
                LlamaGraph.LABEL_WEIGHT, Nd4j.create(DataType.FLOAT, 0));
        BlockwiseHeadLoss.Result r = new BlockwiseHeadLoss(head).compute(hidden, feeds);
        assertEquals(0.0, r.loss());
        assertEquals(0.0, r.gradient().amaxNumber().doubleValue());
    }
}
