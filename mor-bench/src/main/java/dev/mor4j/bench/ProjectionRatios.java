package dev.mor4j.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The projection-level targets, measured interleaved in one process ({@link Interleaved}) at T tokens,
 * {@code d_in → d_out}: the frozen layer, MoR N 8 r 8 in its default form, and LoRA r 64 (= N·r), each forward
 * and forward+backward; and, as the "before", the frozen layer and MoR written straightforwardly
 * ({@link StraightforwardGraph}). Ratios are per round, then summarised; every ratio's denominator is the
 * library's base forward of the same round, so before and after share one yardstick.
 *
 * <p>The library's graphs with gradients through {@code calculateGradients} (cache off) are deliberately not
 * among the tasks: their stream of fresh allocations slowed whichever task ran next (MoR's forward+backward
 * went from about 2.5× to 3.25× the base forward when they were interleaved).
 */
public final class ProjectionRatios {

    private ProjectionRatios() {
    }

    public static ObjectNode measure(int dIn, int dOut, int tokens, int warmup, int rounds) {
        ProjectionGraph base = new ProjectionGraph(Variant.BASE, dIn, dOut, tokens, 42);
        ProjectionGraph mor = new ProjectionGraph(Variant.MOR_EXPANDED, dIn, dOut, tokens, 42);
        ProjectionGraph lora = new ProjectionGraph(Variant.LORA_R64, dIn, dOut, tokens, 42);
        Interleaved it = new Interleaved()
                .add("base.f", base::forward).add("base.fb", base::forwardBackward)
                .add("mor.f", mor::forward).add("mor.fb", mor::forwardBackward)
                .add("lora64.f", lora::forward).add("lora64.fb", lora::forwardBackward);
        StraightforwardGraph plainBase = new StraightforwardGraph(false, dIn, dOut, tokens, 42);
        StraightforwardGraph plainMor = new StraightforwardGraph(true, dIn, dOut, tokens, 42);
        it.add("before.base.f", plainBase::forward).add("before.base.fb", plainBase::forwardBackward)
                .add("before.mor.f", plainMor::forward).add("before.mor.fb", plainMor::forwardBackward);
        it.run(warmup, rounds);
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("d_in", dIn);
        o.put("d_out", dOut);
        o.put("tokens", tokens);
        ObjectNode ms = o.putObject("ms");
        for (String t : new String[] {"base.f", "base.fb", "mor.f", "mor.fb", "lora64.f", "lora64.fb", "before.base.f",
            "before.base.fb", "before.mor.f", "before.mor.fb"}) {
            ms.set(t, TrainingRun.stats(it.stats(t)));
        }
        ObjectNode r = o.putObject("ratios");
        r.set("base_fb_over_base_f", TrainingRun.stats(it.ratio("base.fb", "base.f")));
        r.set("mor_f_over_base_f", TrainingRun.stats(it.ratio("mor.f", "base.f")));
        r.set("mor_fb_over_base_f", TrainingRun.stats(it.ratio("mor.fb", "base.f")));
        r.set("mor_fb_over_base_fb", TrainingRun.stats(it.ratio("mor.fb", "base.fb")));
        r.set("mor_bwd_over_lora64_bwd", TrainingRun.stats(it.ratioOfDifferences("mor.fb", "mor.f", "lora64.fb", "lora64.f")));
        r.set("mor_fb_over_lora64_fb", TrainingRun.stats(it.ratio("mor.fb", "lora64.fb")));
        ObjectNode before = o.putObject("before");
        before.set("base_f_over_base_f", TrainingRun.stats(it.ratio("before.base.f", "base.f")));
        before.set("base_fb_over_base_f", TrainingRun.stats(it.ratio("before.base.fb", "base.f")));
        before.set("mor_f_over_base_f", TrainingRun.stats(it.ratio("before.mor.f", "base.f")));
        before.set("mor_fb_over_base_f", TrainingRun.stats(it.ratio("before.mor.fb", "base.f")));
        before.set("mor_fb_over_base_fb", TrainingRun.stats(it.ratio("before.mor.fb", "before.base.fb")));
        before.set("base_fb_over_own_base_f", TrainingRun.stats(it.ratio("before.base.fb", "before.base.f")));
        return o;
    }

    public static void main(String[] args) {
        ObjectNode o = measure(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        System.out.println(o.toPrettyString());
    }
}
