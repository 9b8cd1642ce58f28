package dev.mor4j.paper;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The paper's claims checked against the experiment's summaries ({@link Claim} says how): MoR E8 r8 against LoRA r8
 * and MoE-LoRA (Table 1), eight experts against fewer and rank 32 against lower (Table 3), the softmax router against
 * mean pooling and the balanced router (Table 4), all on the average multiple-choice accuracy over tasks; and the
 * router's specialisation by task (Fig. 7): MoR E8 r8's {@link Specialisation} index after training against the
 * same index at initialisation.
 */
final class ClaimCheck {

    private ClaimCheck() {
    }

    /** Every claim, in the paper's order. */
    static List<Claim> claims(Map<PaperMethod, MethodSummary> s) {
        Function<PaperMethod, MeanSd> avg = m -> s.containsKey(m) ? s.get(m).averageAccuracy() : null;
        List<Claim> out = new ArrayList<>();
        out.add(pair("Table 1: MoR E8 r8 beats LoRA r8 at a similar parameter count",
                String.format(Locale.ROOT, "+%.1f points", PaperNumbers.MOR_OVER_LORA_R8),
                PaperMethod.MOR_E8_R8, PaperMethod.LORA_R8, avg));
        out.add(pair("Table 1: MoR E8 r8 beats MoE-LoRA",
                String.format(Locale.ROOT, "+%.1f points", PaperNumbers.MOR_OVER_MOELORA),
                PaperMethod.MOR_E8_R8, PaperMethod.MOELORA_E2_R8, avg));
        out.add(best("Table 3: more experts help, up to 8 (E8 beats E1, E2 and E4 at r8)",
                PaperMethod.MOR_E8_R8, List.of(PaperMethod.MOR_E1_R8, PaperMethod.MOR_E2_R8, PaperMethod.MOR_E4_R8), avg));
        out.add(best("Table 3: rank helps, up to 32 (r32 beats r4, r8 and r16 at E8)", PaperMethod.MOR_E8_R32,
                List.of(PaperMethod.MOR_E8_R4, PaperMethod.MOR_E8_R8, PaperMethod.MOR_E8_R16), avg));
        out.add(best("Table 4: the learnable softmax router beats mean pooling and the balanced router",
                PaperMethod.MOR_E8_R8, List.of(PaperMethod.MOR_E8_R8_MEAN, PaperMethod.MOR_E8_R8_BALANCED), avg));
        MethodSummary mor = s.get(PaperMethod.MOR_E8_R8);
        MeanSd trained = mor == null ? null : mor.specialisation();
        MeanSd init = mor == null ? null : mor.specialisationAtInit();
        out.add(new Claim("Fig. 7: the router specialises by task (MoR E8 r8: task specialisation index after"
                + " training above the index at initialisation)", "qualitative (heat map per task)",
                "index " + fmt(trained, 1, 3) + " trained vs " + fmt(init, 1, 3) + " at initialisation",
                Claim.beats(trained, init)));
        return out;
    }

    private static Claim pair(String claim, String paper, PaperMethod a, PaperMethod b,
            Function<PaperMethod, MeanSd> avg) {
        MeanSd x = avg.apply(a);
        MeanSd y = avg.apply(b);
        String ours = a.cliName() + " " + fmt(x, 100, 1) + " vs " + b.cliName() + " " + fmt(y, 100, 1)
                + (x != null && y != null ? String.format(Locale.ROOT, " (%+.1f points)", 100 * (x.mean() - y.mean()))
                        : "");
        return new Claim(claim, paper, ours, Claim.beats(x, y));
    }

    private static Claim best(String claim, PaperMethod a, List<PaperMethod> others,
            Function<PaperMethod, MeanSd> avg) {
        List<Claim.Verdict> parts = new ArrayList<>();
        StringBuilder ours = new StringBuilder(a.cliName() + " " + fmt(avg.apply(a), 100, 1) + " vs");
        for (PaperMethod b : others) {
            parts.add(Claim.beats(avg.apply(a), avg.apply(b)));
            ours.append(' ').append(b.cliName()).append(' ').append(fmt(avg.apply(b), 100, 1)).append(';');
        }
        ours.setLength(ours.length() - 1);
        return new Claim(claim, "direction only (values not found)", ours.toString(), Claim.all(parts));
    }

    private static String fmt(MeanSd m, double scale, int decimals) {
        return m == null ? "not run" : m.format(scale, decimals);
    }
}
