package dev.mor4j.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mor4j.core.adapter.AdapterContext;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A small LoRA-like regression for trainer tests: a frozen base {@code W0 [6, 4]} plus a trainable low-rank
 * update {@code A [6, 2] · B [2, 4]} on dropped-out inputs, fitted by mean squared error to targets
 * {@code y = x W*} where {@code W* - W0} has rank 2, so the adapter can reach them. Each step reads
 * {@code ROWS_PER_STEP} rows of a 16-row data set in an order shuffled per epoch.
 */
final class TinyProblem {

    static final int ROWS = 16;
    static final int D_IN = 6;
    static final int D_OUT = 4;
    static final int RANK = 2;
    static final int ROWS_PER_STEP = 8;
    static final String A = "lora_A";
    static final String B = "lora_B";

    final SameDiff sd = SameDiff.create();
    final SameDiffGradients source;
    final Map<String, INDArray> params;
    final Map<String, Integer> masks;
    final Map<String, Double> rates;
    final Set<Long> nanSteps = new TreeSet<>();
    private final INDArray x; // [16, 6]
    private final INDArray y; // [16, 4]
    private final int accumulation;
    private final long seed;

    /**
     * @param initSeed     seed of the adapter weights' initial values
     * @param dropout      adapter dropout probability (0: no mask placeholder)
     * @param accumulation micro-batches per step (each {@code ROWS_PER_STEP / accumulation} rows)
     * @param seed         the run's seed (data order and dropout masks)
     */
    TinyProblem(long initSeed, double dropout, int accumulation, long seed) {
        this.accumulation = accumulation;
        this.seed = seed;
        Random data = new Random(7);
        x = gaussian(data, ROWS, D_IN, 1.0);
        INDArray w0 = gaussian(data, D_IN, D_OUT, 0.5);
        INDArray wStar = w0.add(gaussian(data, D_IN, RANK, 0.7).mmul(gaussian(data, RANK, D_OUT, 0.7))); // reachable
        y = x.mmul(wStar);

        Random init = new Random(initSeed);
        Map<String, INDArray> weights = new LinkedHashMap<>();
        weights.put(A, gaussian(init, D_IN, RANK, 0.3));
        weights.put(B, gaussian(init, RANK, D_OUT, 0.1));
        AdapterContext ctx = new AdapterContext(sd, weights, true);
        SDVariable xv = sd.placeHolder("x", DataType.FLOAT, -1, D_IN);
        SDVariable yv = sd.placeHolder("y", DataType.FLOAT, -1, D_OUT);
        SDVariable base = xv.mmul(sd.constant("w0", w0));
        SDVariable dropped = ctx.dropout("lora", xv, D_IN, dropout);
        SDVariable pred = base.add(dropped.mmul(ctx.weight(A)).mmul(ctx.weight(B)));
        SDVariable err = pred.sub(yv);
        sd.mean("loss", sd.math.square(err));
        masks = ctx.dropoutMasks();
        rates = ctx.dropoutRates();
        source = new SameDiffGradients(sd, "loss", List.of(A, B), this::batch);
        params = source.trainableArrays();
    }

    /** Rows {@code [ROWS_PER_STEP]} of step {@code step}, in the epoch's shuffled order. */
    int[] stepRows(long step) {
        long start = step * ROWS_PER_STEP;
        int[] perm = Seeds.permutation(ROWS, seed, start / ROWS);
        int[] rows = new int[ROWS_PER_STEP];
        System.arraycopy(perm, (int) (start % ROWS), rows, 0, ROWS_PER_STEP);
        return rows;
    }

    SameDiffGradients.Batch batch(long step, int microBatch) {
        int size = ROWS_PER_STEP / accumulation;
        int[] all = stepRows(step);
        int[] rows = new int[size];
        System.arraycopy(all, microBatch * size, rows, 0, size);
        Map<String, INDArray> feeds = new HashMap<>();
        INDArray xb = x.getRows(rows);
        if (nanSteps.contains(step)) {
            xb.putScalar(0, 0, Double.NaN);
        }
        feeds.put("x", xb);
        feeds.put("y", y.getRows(rows));
        feeds.putAll(DropoutMasks.fill(masks, rates, size, seed, step, microBatch));
        return new SameDiffGradients.Batch(feeds, size);
    }

    /** The data position before 0-based step {@code step}: {"epoch": e, "index": i}. */
    static JsonNode position(long step) {
        long start = step * ROWS_PER_STEP;
        return JsonNodeFactory.instance.objectNode().put("epoch", start / ROWS).put("index", start % ROWS);
    }

    /** Mean squared error of the current weights on the whole data set, without dropout. */
    double fullLoss() {
        INDArray pred = x.mmul(sd.getArrForVarName("w0")).add(x.mmul(params.get(A)).mmul(params.get(B)));
        return pred.sub(y).norm2Number().doubleValue() * pred.sub(y).norm2Number().doubleValue() / (ROWS * D_OUT);
    }

    static INDArray gaussian(Random r, int rows, int cols, double scale) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return Nd4j.create(v, new long[] {rows, cols}, DataType.FLOAT);
    }

    /** A copy of each array's float values, for exact comparisons. */
    static Map<String, float[]> snapshot(Map<String, INDArray> arrays) {
        Map<String, float[]> out = new LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, v.dup('c').data().asFloat()));
        return out;
    }
}
