package dev.mor4j.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * MoRE's projection cost against LoRA r 8's, measured interleaved in one process ({@link Interleaved}): forward and
 * forward+backward of {@link Variant#MORE_R8} (R = 8, two tasks in one batch, task-alignment loss included) and of
 * {@link Variant#LORA_R8} at T tokens, {@code d_in → d_out}. The target: MoRE's forward+backward ≤ 1.05×
 * LoRA r 8's (it is one LoRA plus a per-rank mask).
 *
 * <pre>java -cp ... dev.mor4j.bench.MoreProjectionRatio D_IN D_OUT TOKENS WARMUP ROUNDS</pre>
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
        ObjectNode o = measure(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        System.out.println(o.toPrettyString());
    }
}
