package dev.mor4j.paper;

import java.util.Locale;

/**
 * The mean and sample standard deviation (n − 1 in the denominator) of a quantity over runs; the standard
 * deviation is NaN for a single run, which has no error bar.
 *
 * @param mean the mean
 * @param sd   the sample standard deviation, NaN when n < 2
 * @param n    the runs
 */
public record MeanSd(double mean, double sd, int n) {

    /** Of the values given (NaN values included: they make the mean NaN). */
    public static MeanSd of(double... values) {
        int n = values.length;
        if (n == 0) {
            return new MeanSd(Double.NaN, Double.NaN, 0);
        }
        double mean = 0;
        for (double v : values) {
            mean += v;
        }
        mean /= n;
        if (n < 2) {
            return new MeanSd(mean, Double.NaN, 1);
        }
        double ss = 0;
        for (double v : values) {
            ss += (v - mean) * (v - mean);
        }
        return new MeanSd(mean, Math.sqrt(ss / (n - 1)), n);
    }

    /** Whether there is an error bar (n ≥ 2). */
    public boolean hasSd() {
        return n >= 2 && !Double.isNaN(sd);
    }

    /** The lower end of the error bar, mean − sd. */
    public double low() {
        return mean - sd;
    }

    /** The upper end of the error bar, mean + sd. */
    public double high() {
        return mean + sd;
    }

    /** E.g. {@code 61.3 ± 2.1} for fractions shown as percentages ({@code scale} 100), or {@code 61.3} for one run. */
    public String format(double scale, int decimals) {
        if (Double.isNaN(mean)) {
            return "–";
        }
        String f = "%." + decimals + "f";
        String m = String.format(Locale.ROOT, f, mean * scale);
        return hasSd() ? m + " ± " + String.format(Locale.ROOT, f, sd * scale) : m;
    }
}
