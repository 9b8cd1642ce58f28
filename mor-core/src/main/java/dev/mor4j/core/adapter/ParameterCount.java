package dev.mor4j.core.adapter;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;

/**
 * Trainable and total parameter counts, printed the way PEFT's {@code print_trainable_parameters()} prints
 * them: {@code trainable params: 1,234 || all params: 5,678 || trainable%: 21.7330}.
 *
 * @param trainable parameters the optimiser updates (the adapters)
 * @param all       every parameter of the adapted model, the trainable ones included
 */
public record ParameterCount(long trainable, long all) {

    public ParameterCount {
        if (trainable < 0 || all < trainable) {
            throw new IllegalArgumentException("expected 0 ≤ trainable ≤ all, got trainable " + trainable
                    + ", all " + all);
        }
    }

    /** The counts of a frozen model with these adapters added: all = frozen + adapters. */
    public static ParameterCount of(Iterable<? extends AdapterLayer> adapters, long frozenParams) {
        long t = 0;
        for (AdapterLayer a : adapters) {
            t += a.parameterCount();
        }
        return new ParameterCount(t, frozenParams + t);
    }

    /** {@code 100 · trainable / all}, computed as PEFT computes it (in double). */
    public double trainablePercent() {
        return all == 0 ? 0 : 100.0 * trainable / all;
    }

    /** PEFT's line; the percentage has 4 decimals, rounded like Python's {@code :.4f} (half-even, exact). */
    public String format() {
        return format(trainable, all);
    }

    /** PEFT's line for the given counts. */
    public static String format(long trainable, long all) {
        double pct = all == 0 ? 0 : 100.0 * trainable / all;
        // Python rounds the exact binary value half-to-even; Formatter's %.4f would round half-up.
        String p = new BigDecimal(pct).setScale(4, RoundingMode.HALF_EVEN).toPlainString();
        return String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %s",
                trainable, all, p);
    }

    @Override
    public String toString() {
        return format();
    }
}
