package dev.mor4j.core.adapter;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A central-difference gradient check in float64: {@code (L(w + ε) − L(w − ε)) / 2ε} for a few entries of
 * every weight, against the analytic gradient.
 *
 * <p>The error of one entry is {@code |analytic − numeric| / max(|analytic|, |numeric|, 1)}: relative for
 * gradients above 1, absolute below (so that entries whose gradient is nearly zero are judged by the
 * rounding they carry, about {@code 1e-16·|L| / ε}).
 */
final class FiniteDifference {

    static final double EPS = 1e-6;

    /** The loss with weight {@code key} replaced by {@code value} (all others unchanged). */
    interface Loss {
        double at(String key, INDArray value);
    }

    record Entry(String key, long index, double analytic, double numeric) {
        double error() {
            return Math.abs(analytic - numeric) / Math.max(1.0, Math.max(Math.abs(analytic), Math.abs(numeric)));
        }
    }

    private FiniteDifference() {
    }

    /** Numeric gradients of {@code perKey} random entries of every weight. */
    static List<Entry> compare(Map<String, INDArray> weights, Map<String, INDArray> analytic, Loss loss, int perKey,
            Random rng) {
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : weights.entrySet()) {
            String key = e.getKey();
            INDArray w = e.getValue();
            INDArray grad = analytic.get(key);
            assertTrue(grad != null, "no analytic gradient for " + key);
            for (int n = 0; n < Math.min(perKey, w.length()); n++) {
                long i = rng.nextInt((int) w.length());
                INDArray plus = w.dup();
                plus.putScalar(i, w.getDouble(i) + EPS);
                INDArray minus = w.dup();
                minus.putScalar(i, w.getDouble(i) - EPS);
                double numeric = (loss.at(key, plus) - loss.at(key, minus)) / (2 * EPS);
                out.add(new Entry(key, i, grad.reshape(grad.length()).getDouble(i), numeric));
            }
        }
        return out;
    }

    /** Asserts every entry is within {@code tolerance}; returns the largest error. */
    static double assertClose(List<Entry> entries, double tolerance, String what) {
        double worst = 0;
        for (Entry e : entries) {
            worst = Math.max(worst, e.error());
            assertTrue(e.error() <= tolerance, what + ": " + e + " error " + e.error());
        }
        return worst;
    }
}
