package dev.mor4j.paper;

import dev.mor4j.llama.eval.RouterProbe;

/**
 * How differently the router treats the tasks, from its mean weights per task ({@link RouterProbe.TaskWeights}):
 * in every module, the total-variation distance {@code ½ Σ_e |p_t[e] − p_u[e]|} between the mean router
 * distributions of two tasks, averaged over every pair of tasks, then over the modules. 0 when every task gets the
 * same mixture (the mean router always), 1 when the tasks use disjoint experts. It does not depend on how the
 * experts are numbered, so it can be averaged over seeds (the heat maps cannot: each seed numbers its experts
 * differently).
 */
final class Specialisation {

    private Specialisation() {
    }

    /** The index of the weights; NaN with fewer than two tasks. */
    static double index(RouterProbe.TaskWeights w) {
        int tasks = w.tasks().size();
        if (tasks < 2) {
            return Double.NaN;
        }
        double total = 0;
        for (int m = 0; m < w.modules().size(); m++) {
            double sum = 0;
            int pairs = 0;
            for (int t = 0; t < tasks; t++) {
                for (int u = t + 1; u < tasks; u++) {
                    double tv = 0;
                    for (int e = 0; e < w.experts(); e++) {
                        tv += Math.abs(w.weights()[t][m][e] - w.weights()[u][m][e]);
                    }
                    sum += tv / 2;
                    pairs++;
                }
            }
            total += sum / pairs;
        }
        return total / w.modules().size();
    }

    /** The mean router weight of each task and expert over the modules, {@code [tasks][N]}. */
    static double[][] overModules(RouterProbe.TaskWeights w) {
        double[][] out = new double[w.tasks().size()][w.experts()];
        for (int t = 0; t < out.length; t++) {
            for (int m = 0; m < w.modules().size(); m++) {
                for (int e = 0; e < w.experts(); e++) {
                    out[t][e] += w.weights()[t][m][e] / w.modules().size();
                }
            }
        }
        return out;
    }
}
