package dev.mor4j.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * MoRE's projection cost against LoRA r 8's, measured interleaved in one process ({@link Interleaved}): forward and
 * forward+backward of {@link Variant#MORE_R8} (R = 8, two tasks in one batch, task-alignment loss included) and of
 * {@link Variant#LORA_R8} at T tokens, {@code d_in → d_out}. The target: MoRE's forward+backward ≤ 1.05×
 * LoRA r 8's (it is one LoRA plus a per-rank mask).
 *
 * <pre>java -cp ... dev.mor4j.bench.MoreProjectionRatio D_IN D_OUT TOKENS WARMUP ROUNDS [--profile]</pre>
 * With {@code --profile} it then runs two forward+backward passes of each graph with an {@link OpProfile} attached
 * and prints the ops by type and the most expensive ones.
 */
public final class MoreProjectionRatio {

    private MoreProjectionRatio() {
    }

    public static ObjectNode measure(int dIn, int dOut, int tokens, int warmup, int rounds) {
        ProjectionGraph lora = new ProjectionGraph(Variant.LORA_R8, dIn, dOut, tokens, 42);
        ProjectionGraph more = new ProjectionGraph(Variant.MORE_R8, dIn, dOut, tokens, 42);
        Interleaved it = new Interleaved()
                .add("lora8.f", lora::forward).add("lora8.fb", lora::forwardBackward)
                .add("more.f", more::forward).add("more.fb", more::forwardBackward)
                .run(warmup, rounds);
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("d_in", dIn);
        o.put("d_out", dOut);
        o.put("tokens", tokens);
        ObjectNode ms = o.putObject("ms");
        for (String t : new String[] {"lora8.f", "lora8.fb", "more.f", "more.fb"}) {
            ms.set(t, TrainingRun.stats(it.stats(t)));
        }
        ObjectNode r = o.putObject("ratios");
        r.set("more_f_over_lora8_f", TrainingRun.stats(it.ratio("more.f", "lora8.f")));
        r.set("more_fb_over_lora8_fb", TrainingRun.stats(it.ratio("more.fb", "lora8.fb")));
        return o;
    }

    public static void main(String[] args) {
        if (args.length != 5 && !(args.length == 6 && args[5].equals("--profile"))) {
            throw new IllegalArgumentException("usage: MoreProjectionRatio D_IN D_OUT TOKENS WARMUP ROUNDS [--profile]");
        }
        int dIn = Integer.parseInt(args[0]);
        int dOut = Integer.parseInt(args[1]);
        int tokens = Integer.parseInt(args[2]);
        int warmup = Integer.parseInt(args[3]);
        int rounds = Integer.parseInt(args[4]);
        if (rounds > 0) {
            System.out.println(measure(dIn, dOut, tokens, warmup, rounds).toPrettyString());
        }
        if (args.length == 6) {
            for (Variant v : new Variant[] {Variant.LORA_R8, Variant.MORE_R8}) {
                ProjectionGraph g = new ProjectionGraph(v, dIn, dOut, tokens, 42);
                for (int i = 0; i < warmup; i++) {
                    g.forwardBackward();
                }
                long start = System.nanoTime();
                OpProfile profile = g.profile(2);
                System.out.printf(Locale.ROOT, "%n%s, 2 forward+backward passes: %.1f ms wall%n", v,
                        (System.nanoTime() - start) / 1e6);
                System.out.print(profile.byType(30) + profile.table(60));
            }
        }
    }
}
