package dev.mor4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times several tasks in one process, interleaved: each round runs every task once, in an order that rotates
 * from round to round, so that a burst of load from other processes falls on all tasks alike rather than
 * on whichever one happened to be running. Ratios are taken within each round and then summarised, which
 * cancels slow drifts of the machine's speed.
 */
public final class Interleaved {

    /** Summary of a sample: median, quartiles, minimum and maximum. */
    public record Stats(double median, double p25, double p75, double min, double max, int n) {

        static Stats of(double[] values) {
            double[] s = values.clone();
            Arrays.sort(s);
            return new Stats(quantile(s, 0.5), quantile(s, 0.25), quantile(s, 0.75), s[0], s[s.length - 1], s.length);
        }

        private static double quantile(double[] sorted, double q) {
            double pos = q * (sorted.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = (int) Math.ceil(pos);
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
        }

        /** {@code median [p25–p75]} with {@code digits} decimals. */
        public String format(int digits) {
            String f = "%." + digits + "f";
            return String.format(f + " [" + f + "–" + f + "]", median, p25, p75);
        }
    }

    private final Map<String, Runnable> tasks = new LinkedHashMap<>();
    private final Map<String, double[]> millis = new LinkedHashMap<>();

    /** Adds a task; tasks run in the order added, rotated by one each round. */
    public Interleaved add(String name, Runnable task) {
        tasks.put(name, task);
        return this;
    }

    /**
     * Runs {@code warmup} untimed rounds, then {@code rounds} timed ones.
     *
     * @return this, with the times recorded
     */
    public Interleaved run(int warmup, int rounds) {
        List<String> names = new ArrayList<>(tasks.keySet());
        for (int w = 0; w < warmup; w++) {
            for (String n : names) {
                tasks.get(n).run();
            }
        }
        for (String n : names) {
            millis.put(n, new double[rounds]);
        }
        for (int r = 0; r < rounds; r++) {
            for (int j = 0; j < names.size(); j++) {
                String n = names.get((j + r) % names.size());
                long t0 = System.nanoTime();
                tasks.get(n).run();
                millis.get(n)[r] = (System.nanoTime() - t0) / 1e6;
            }
        }
        return this;
    }

    /** The names of the tasks, in the order added. */
    public List<String> names() {
        return List.copyOf(tasks.keySet());
    }

    /** Milliseconds of each timed round of a task. */
    public double[] millis(String task) {
        return millis.get(task).clone();
    }

    public Stats stats(String task) {
        return Stats.of(millis.get(task));
    }

    /** Per-round ratio {@code a / b}. */
    public Stats ratio(String a, String b) {
        double[] x = millis.get(a);
        double[] y = millis.get(b);
        double[] q = new double[x.length];
        for (int i = 0; i < q.length; i++) {
            q[i] = x[i] / y[i];
        }
        return Stats.of(q);
    }

    /** Per-round ratio {@code (a1 − a2) / (b1 − b2)}, e.g. of two backward passes (forward+backward minus forward). */
    public Stats ratioOfDifferences(String a1, String a2, String b1, String b2) {
        double[] q = new double[millis.get(a1).length];
        for (int i = 0; i < q.length; i++) {
            q[i] = (millis.get(a1)[i] - millis.get(a2)[i]) / (millis.get(b1)[i] - millis.get(b2)[i]);
        }
        return Stats.of(q);
    }
}
