package dev.mor4j.llama.generate;

import java.util.Random;

/**
 * Picks the next token from logits: greedily, or by sampling at a temperature from the top-p nucleus as
 * Hugging Face's {@code TemperatureLogitsWarper} and {@code TopPLogitsWarper} do (temperature first, then the
 * smallest set of most likely tokens whose probability reaches {@code top_p}, at least one token).
 * Probabilities are computed in double precision. A sampler owns its random generator: one per sequence.
 */
public final class Sampler {

    private final double temperature;
    private final double topP;
    private final Random random;

    /** @param config temperature, top-p and seed */
    public Sampler(GenerationConfig config) {
        this.temperature = config.temperature();
        this.topP = config.topP();
        this.random = new Random(config.seed());
    }

    /** The next token for these logits {@code [V]}. */
    public int next(float[] logits) {
        return temperature == 0 ? argmax(logits) : sample(logits);
    }

    /** The index of the largest logit; the lowest index among equal ones. NaN logits are never chosen. */
    public static int argmax(float[] logits) {
        int best = -1;
        for (int i = 0; i < logits.length; i++) {
            if (!Float.isNaN(logits[i]) && (best < 0 || logits[i] > logits[best])) {
                best = i;
            }
        }
        if (best < 0) {
            throw new IllegalStateException("every logit is NaN");
        }
        return best;
    }

    /**
     * The probabilities sampling draws from: softmax of {@code logits / temperature}, restricted to the top-p
     * nucleus and renormalised; tokens outside it have probability 0.
     */
    public double[] distribution(float[] logits) {
        int v = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x / temperature);
        }
        double[] p = new double[v]; // [V]
        double sum = 0;
        for (int i = 0; i < v; i++) {
            p[i] = Math.exp(logits[i] / temperature - max);
            sum += p[i];
        }
        for (int i = 0; i < v; i++) {
            p[i] /= sum;
        }
        if (topP < 1) {
            keepNucleus(p);
        }
        return p;
    }

    /** Zeroes every token outside the smallest most-likely set reaching {@code topP}, then renormalises. */
    private void keepNucleus(double[] p) {
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // most likely first; ties by index, so the nucleus does not depend on the sort's stability
        java.util.Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        double before = 0;
        double kept = 0;
        int n = 0;
        while (n < order.length && (n == 0 || before < topP)) {
            before += p[order[n]];
            n++;
        }
        boolean[] keep = new boolean[p.length];
        for (int i = 0; i < n; i++) {
            keep[order[i]] = true;
            kept += p[order[i]];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] = keep[i] ? p[i] / kept : 0;
        }
    }

    private int sample(float[] logits) {
        double[] p = distribution(logits);
        double u = random.nextDouble();
        double cum = 0;
        int last = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                cum += p[i];
                last = i;
                if (u < cum) {
                    return i;
                }
            }
        }
        return last; // u fell within rounding of the total
    }
}
