package dev.mor4j.paper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClaimTest {

    @Test
    void meanAndSampleStandardDeviation() {
        MeanSd m = MeanSd.of(0.5, 0.6, 0.7);
        assertEquals(0.6, m.mean(), 1e-12);
        assertEquals(0.1, m.sd(), 1e-12); // sqrt((0.01 + 0 + 0.01) / 2)
        assertEquals("60.0 ± 10.0", m.format(100, 1));
        MeanSd one = MeanSd.of(0.42);
        assertFalse(one.hasSd());
        assertEquals("42.0", one.format(100, 1));
    }

    @Test
    void aClaimIsReproducedOnlyWhenTheErrorBarsAreApart() {
        MeanSd high = MeanSd.of(0.80, 0.82, 0.84); // 0.82 ± 0.02
        MeanSd low = MeanSd.of(0.60, 0.62, 0.64); // 0.62 ± 0.02
        MeanSd near = MeanSd.of(0.78, 0.80, 0.82); // 0.80 ± 0.02: the bars overlap
        assertEquals(Claim.Verdict.REPRODUCED, Claim.beats(high, low));
        assertEquals(Claim.Verdict.NOT_REPRODUCED, Claim.beats(low, high));
        assertEquals(Claim.Verdict.INCONCLUSIVE, Claim.beats(high, near));
        assertEquals(Claim.Verdict.INCONCLUSIVE, Claim.beats(MeanSd.of(0.9), low), "one seed has no error bar");
        assertEquals(Claim.Verdict.NOT_RUN, Claim.beats(high, null));
        assertEquals(Claim.Verdict.NOT_REPRODUCED, Claim.all(List.of(Claim.Verdict.REPRODUCED,
                Claim.Verdict.NOT_REPRODUCED, Claim.Verdict.INCONCLUSIVE)));
        assertEquals(Claim.Verdict.INCONCLUSIVE, Claim.all(List.of(Claim.Verdict.REPRODUCED,
                Claim.Verdict.INCONCLUSIVE)));
        assertEquals(Claim.Verdict.REPRODUCED, Claim.all(List.of(Claim.Verdict.REPRODUCED, Claim.Verdict.REPRODUCED)));
    }

    @Test
    void table1ClaimsCompareTheAverageAccuracyOfMorAndLora() {
        MethodSummary mor = summary("mor-e8-r8", MeanSd.of(0.80, 0.82, 0.84));
        MethodSummary lora = summary("lora-r8", MeanSd.of(0.60, 0.62, 0.64));
        List<Claim> claims = ClaimCheck.claims(Map.of(PaperMethod.MOR_E8_R8, mor, PaperMethod.LORA_R8, lora));
        assertEquals(6, claims.size());
        assertEquals(Claim.Verdict.REPRODUCED, claims.get(0).verdict());
        assertTrue(claims.get(0).ours().contains("(+20.0 points)"), claims.get(0).ours());
        assertTrue(claims.get(0).paper().contains("+7.4"), claims.get(0).paper());
        assertEquals(Claim.Verdict.NOT_RUN, claims.get(1).verdict(), "MoE-LoRA was not run");
    }

    private static MethodSummary summary(String method, MeanSd avg) {
        return new MethodSummary(method, 1, 0.01, List.of(0L, 1L, 2L), Map.of(), avg, Map.of(), avg, avg, avg, avg,
                avg, null, null, new double[0]);
    }
}
