package dev.mor4j.core.adapter;

import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * MoRE written out from the paper's formula in float64 loops, independent of the production code: the output of
 * every position and the task-alignment loss, with the straight-through weight {@code w = p[k*] − p₀[k*] + 1}
 * where {@code p₀} (and the choice {@code k*}) may be frozen at given values, so that finite differences of this
 * function are the straight-through gradients.
 */
final class MoreReference {

    final double[][] a; // [R, d_in]
    final double[][] b; // [d_out, R]
    final double[][] wg; // [K, d_in]
    final double[] bg; // [K]
    final double[][] emb; // [tasks, d_in]
    final double[][] w; // [d_out, d_in], the frozen weight
    final int[] ranks; // [K]
    final double scaling;
    final double temperature;

    MoreReference(String prefix, Map<String, INDArray> weights, INDArray base, int[] ranks, double scaling,
            double temperature) {
        this.a = rows(weights.get(prefix + ".lora_A.weight"));
        this.b = rows(weights.get(prefix + ".lora_B.weight"));
        this.wg = rows(weights.get(prefix + ".more_gate.weight"));
        this.bg = rows(weights.get(prefix + ".more_gate.bias").reshape(1, -1))[0];
        this.emb = rows(weights.get(prefix + ".more_task_embedding"));
        this.w = rows(base);
        this.ranks = ranks;
        this.scaling = scaling;
        this.temperature = temperature;
    }

    static double[][] rows(INDArray m) {
        INDArray d = m.castTo(DataType.DOUBLE);
        double[][] out = new double[(int) d.rows()][(int) d.columns()];
        for (int i = 0; i < out.length; i++) {
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = d.getDouble(i, j);
            }
        }
        return out;
    }

    /** {@code softmax(W_g·E[t] + b_g)}. */
    double[] probabilities(int task) {
        double[] l = new double[wg.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < l.length; k++) {
            l[k] = bg[k] + dot(wg[k], emb[task]);
            max = Math.max(max, l[k]);
        }
        double sum = 0;
        for (int k = 0; k < l.length; k++) {
            l[k] = Math.exp(l[k] - max);
            sum += l[k];
        }
        for (int k = 0; k < l.length; k++) {
            l[k] /= sum;
        }
        return l;
    }

    static int argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * The outputs {@code [tokens][d_out]}.
     *
     * @param x        inputs {@code [tokens][d_in]}
     * @param dropped  the inputs after dropout (the same array without dropout)
     * @param example  each position's example
     * @param tasks    each example's task, −1 for none
     * @param frozenP  per example, the {@code p₀[k*]} to subtract (null: this point's own, giving w = 1 exactly)
     * @param frozenK  per example, the fixed choice k* (null: this point's argmax)
     */
    double[][] outputs(double[][] x, double[][] dropped, int[] example, int[] tasks, double[] frozenP, int[] frozenK) {
        double[][] y = new double[x.length][w.length];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < w.length; o++) {
                y[t][o] = dot(w[o], x[t]);
            }
            int e = example[t];
            if (tasks[e] < 0) {
                continue;
            }
            double[] p = probabilities(tasks[e]);
            int k = frozenK == null ? argmax(p) : frozenK[e];
            double weight = p[k] - (frozenP == null ? p[k] : frozenP[e]) + 1;
            for (int j = 0; j < ranks[k]; j++) {
                double h = dot(a[j], dropped[t]);
                for (int o = 0; o < w.length; o++) {
                    y[t][o] += scaling * weight * b[o][j] * h;
                }
            }
        }
        return y;
    }

    /**
     * {@code mean_e (logsumexp_t S[e,t] − S[e,t_e])} over the examples with a task, {@code S = cos(x̄_e, E[t]) / τ}
     * and {@code x̄_e} the mean of the example's real inputs.
     */
    double alignmentLoss(double[][] x, boolean[] real, int[] example, int[] tasks) {
        double total = 0;
        int count = 0;
        for (int e = 0; e < tasks.length; e++) {
            if (tasks[e] < 0) {
                continue;
            }
            double[] mean = new double[x[0].length];
            int n = 0;
            for (int t = 0; t < x.length; t++) {
                if (example[t] == e && real[t]) {
                    n++;
                    for (int i = 0; i < mean.length; i++) {
                        mean[i] += x[t][i];
                    }
                }
            }
            for (int i = 0; i < mean.length; i++) {
                mean[i] /= n;
            }
            double[] s = new double[emb.length];
            double sum = 0;
            for (int task = 0; task < emb.length; task++) {
                s[task] = dot(mean, emb[task]) / (norm(mean) * norm(emb[task])) / temperature;
                sum += Math.exp(s[task]);
            }
            total += Math.log(sum) - s[tasks[e]];
            count++;
        }
        return total / Math.max(count, 1);
    }

    static double dot(double[] u, double[] v) {
        double s = 0;
        for (int i = 0; i < u.length; i++) {
            s += u[i] * v[i];
        }
        return s;
    }

    static double norm(double[] v) {
        return Math.max(Math.sqrt(dot(v, v)), 1e-12);
    }
}
