package dev.mor4j.paper;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * One of the paper's claims and what the experiment says about it, decided mechanically from error bars
 * (mean ± one sample standard deviation over seeds): "A beats B" is {@link Verdict#REPRODUCED} when A's bar lies
 * wholly above B's, {@link Verdict#NOT_REPRODUCED} when wholly below, {@link Verdict#INCONCLUSIVE} when they overlap
 * (or a method has a single seed, hence no bar). A claim made of several comparisons is reproduced when all are,
 * not reproduced when any is not, and inconclusive otherwise.
 *
 * @param claim   the paper's claim
 * @param paper   what the paper reports for it
 * @param ours    the numbers the verdict rests on
 * @param verdict the verdict
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Claim(String claim, String paper, String ours, Verdict verdict) {

    /** The outcome of a claim. */
    public enum Verdict {
        REPRODUCED("reproduced"),
        NOT_REPRODUCED("not reproduced"),
        INCONCLUSIVE("inconclusive (overlapping error bars, or a single seed)"),
        NOT_RUN("not run");

        private final String text;

        Verdict(String text) {
            this.text = text;
        }

        /** The verdict in words. */
        public String text() {
            return text;
        }
    }

    /** "A beats B", from the two error bars; null summaries are methods that were not run. */
    static Verdict beats(MeanSd a, MeanSd b) {
        if (a == null || b == null || Double.isNaN(a.mean()) || Double.isNaN(b.mean())) {
            return Verdict.NOT_RUN;
        }
        if (!a.hasSd() || !b.hasSd()) {
            return Verdict.INCONCLUSIVE;
        }
        if (a.low() > b.high()) {
            return Verdict.REPRODUCED;
        }
        if (a.high() < b.low()) {
            return Verdict.NOT_REPRODUCED;
        }
        return Verdict.INCONCLUSIVE;
    }

    /** Several comparisons that make one claim. */
    static Verdict all(List<Verdict> parts) {
        if (parts.contains(Verdict.NOT_REPRODUCED)) {
            return Verdict.NOT_REPRODUCED;
        }
        if (parts.contains(Verdict.NOT_RUN)) {
            return Verdict.NOT_RUN;
        }
        return parts.stream().allMatch(v -> v == Verdict.REPRODUCED) ? Verdict.REPRODUCED : Verdict.INCONCLUSIVE;
    }
}
