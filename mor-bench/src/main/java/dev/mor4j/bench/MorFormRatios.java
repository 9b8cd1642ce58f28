package dev.mor4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * MoR N 8, r 8 in its three forms ({@link Variant#MOR_STACKED}, {@link Variant#MOR_EXPANDED},
 * {@link Variant#MOR_LOOP}) against the frozen layer alone, measured interleaved in one process ({@link Interleaved}):
 * each round runs every form's forward and forward+backward and the base's, in a rotating order, and each ratio is
 * the median of the per-round ratios with its quartiles. On a shared machine these ratios are steadier than those of
 * separate JMH forks; {@code Report --forms} gives the JMH table.
 *
 * <p>Usage: {@code MorFormRatios D_IN D_OUT TOKENS WARMUP ROUNDS [--profile]}, e.g.
 * {@code MorFormRatios 4096 11008 256 2 10}. With {@code --profile} each form's forward+backward then runs twice more
 * with an {@link OpProfile} attached, and the most expensive ops are printed.
 */
public final class MorFormRatios {

    private static final List<Variant> FORMS = List.of(Variant.MOR_STACKED, Variant.MOR_EXPANDED, Variant.MOR_LOOP);

    private MorFormRatios() {
    }

    public static void main(String[] args) {
        if (args.length != 5 && !(args.length == 6 && args[5].equals("--profile"))) {
            throw new IllegalArgumentException("usage: MorFormRatios D_IN D_OUT TOKENS WARMUP ROUNDS [--profile]");
        }
        int dIn = Integer.parseInt(args[0]);
        int dOut = Integer.parseInt(args[1]);
        int tokens = Integer.parseInt(args[2]);
        int warmup = Integer.parseInt(args[3]);
        int rounds = Integer.parseInt(args[4]);
        double loadBefore = MachineInfo.loadAverage();
        Interleaved it = new Interleaved();
        ProjectionGraph base = new ProjectionGraph(Variant.BASE, dIn, dOut, tokens, 42);
        it.add("base.f", base::forward).add("base.fb", base::forwardBackward);
        List<ProjectionGraph> graphs = new ArrayList<>();
        for (Variant v : FORMS) {
            ProjectionGraph g = new ProjectionGraph(v, dIn, dOut, tokens, 42);
            graphs.add(g);
            it.add(v + ".f", g::forward).add(v + ".fb", g::forwardBackward);
        }
        it.run(warmup, rounds);
        System.out.printf(Locale.ROOT, "%d->%d, T=%d, %d interleaved rounds (load average %.2f before, %.2f after)%n",
                dIn, dOut, tokens, rounds, loadBefore, MachineInfo.loadAverage());
        System.out.printf(Locale.ROOT, "  %-13s %10s %10s %24s %24s %24s%n", "variant", "fwd ms", "f+b ms", "fwd / base fwd",
                "f+b / base f+b", "f+b / base fwd");
        System.out.printf(Locale.ROOT, "  %-13s %10.1f %10.1f %24s %24s %24s%n", "BASE", it.stats("base.f").median(),
                it.stats("base.fb").median(), "1", "1", it.ratio("base.fb", "base.f").format(2));
        for (Variant v : FORMS) {
            System.out.printf(Locale.ROOT, "  %-13s %10.1f %10.1f %24s %24s %24s%n", v, it.stats(v + ".f").median(),
                    it.stats(v + ".fb").median(), it.ratio(v + ".f", "base.f").format(2),
                    it.ratio(v + ".fb", "base.fb").format(2), it.ratio(v + ".fb", "base.f").format(2));
        }
        if (args.length == 6) {
            for (ProjectionGraph g : graphs) {
                OpProfile profile = g.profile(2);
                System.out.println("\n" + g.variant() + ", 2 forward+backward passes:");
                System.out.print(profile.byType(15) + profile.table(25));
            }
        }
    }
}
