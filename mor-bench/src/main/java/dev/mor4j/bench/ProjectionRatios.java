package dev.mor4j.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The projection-level targets, measured interleaved in one process ({@link Interleaved}) at T tokens,
 * {@code d_in → d_out}: the frozen layer, MoR N 8 r 8 in its default form, and LoRA r 64 (= N·r), each forward
 * and forward+backward, next to ND4J's bare GEMM of the same shape into a preallocated output; then, in a
 * second set of rounds, the "before": the frozen layer and MoR written straightforwardly
 * ({@link StraightforwardGraph}) next to the library's base forward again. Ratios are per round, then
 * summarised; every ratio's denominator is the library's base forward of the same round, so before and
 * after share one yardstick.
 *
 * <p>The "before" graphs run through {@code calculateGradients} (array cache off); their stream of fresh
 * allocations slows whichever task runs next (in one process with them interleaved, the base forward read
 * 1.22× the bare GEMM, without them 1.08×), so they have rounds of their own.
 */
public final class ProjectionRatios {

    private ProjectionRatios() {
    }

    public static ObjectNode measure(int dIn, int dOut, int tokens, int warmup, int rounds) {
        ProjectionGraph base = new ProjectionGraph(Variant.BASE, dIn, dOut, tokens, 42);
        ProjectionGraph mor = new ProjectionGraph(Variant.MOR_EXPANDED, dIn, dOut, tokens, 42);
        ProjectionGraph lora = new ProjectionGraph(Variant.LORA_R64, dIn, dOut, tokens, 42);
        INDArray x = Nd4j.randn(DataType.FLOAT, tokens, dIn); // [T, d_in]
        INDArray w = Nd4j.randn(DataType.FLOAT, dIn, dOut); // [d_in, d_out]
        INDArray out = Nd4j.create(DataType.FLOAT, tokens, dOut); // [T, d_out]
        Interleaved it = new Interleaved()
                .add("gemm", () -> Nd4j.gemm(x, w, out, false, false, 1.0, 0.0))
                .add("base.f", base::forward).add("base.fb", base::forwardBackward)
                .add("mor.f", mor::forward).add("mor.fb", mor::forwardBackward)
                .add("lora64.f", lora::forward).add("lora64.fb", lora::forwardBackward)
                .run(warmup, rounds);
        StraightforwardGraph plainBase = new StraightforwardGraph(false, dIn, dOut, tokens, 42);
        StraightforwardGraph plainMor = new StraightforwardGraph(true, dIn, dOut, tokens, 42);
        Interleaved bt = new Interleaved().add("base.f", base::forward)
                .add("before.base.f", plainBase::forward).add("before.base.fb", plainBase::forwardBackward)
                .add("before.mor.f", plainMor::forward).add("before.mor.fb", plainMor::forwardBackward)
                .run(warmup, rounds);
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("d_in", dIn);
        o.put("d_out", dOut);
        o.put("tokens", tokens);
        ObjectNode ms = o.putObject("ms");
        for (String t : new String[] {"gemm", "base.f", "base.fb", "mor.f", "mor.fb", "lora64.f", "lora64.fb"}) {
            ms.set(t, TrainingRun.stats(it.stats(t)));
        }
        ms.set("before_rounds.base.f", TrainingRun.stats(bt.stats("base.f")));
        for (String t : new String[] {"before.base.f", "before.base.fb", "before.mor.f", "before.mor.fb"}) {
            ms.set(t, TrainingRun.stats(bt.stats(t)));
        }
        ObjectNode r = o.putObject("ratios");
        r.set("base_fb_over_base_f", TrainingRun.stats(it.ratio("base.fb", "base.f")));
        r.set("mor_f_over_base_f", TrainingRun.stats(it.ratio("mor.f", "base.f")));
        r.set("mor_fb_over_base_f", TrainingRun.stats(it.ratio("mor.fb", "base.f")));
        r.set("mor_fb_over_base_fb", TrainingRun.stats(it.ratio("mor.fb", "base.fb")));
        r.set("mor_bwd_over_lora64_bwd", TrainingRun.stats(it.ratioOfDifferences("mor.fb", "mor.f", "lora64.fb", "lora64.f")));
        r.set("mor_fb_over_lora64_fb", TrainingRun.stats(it.ratio("mor.fb", "lora64.fb")));
        ObjectNode g = o.putObject("over_gemm");
        for (String t : new String[] {"base.f", "base.fb", "mor.f", "mor.fb"}) {
            g.set(t.replace('.', '_') + "_over_gemm", TrainingRun.stats(it.ratio(t, "gemm")));
        }
        ObjectNode before = o.putObject("before");
        before.set("base_f_over_base_f", TrainingRun.stats(bt.ratio("before.base.f", "base.f")));
        before.set("base_fb_over_base_f", TrainingRun.stats(bt.ratio("before.base.fb", "base.f")));
        before.set("mor_f_over_base_f", TrainingRun.stats(bt.ratio("before.mor.f", "base.f")));
        before.set("mor_fb_over_base_f", TrainingRun.stats(bt.ratio("before.mor.fb", "base.f")));
        before.set("mor_fb_over_base_fb", TrainingRun.stats(bt.ratio("before.mor.fb", "before.base.fb")));
        before.set("base_fb_over_own_base_f", TrainingRun.stats(bt.ratio("before.base.fb", "before.base.f")));
        return o;
    }

    public static void main(String[] args) {
        ObjectNode o = measure(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        System.out.println(o.toPrettyString());
    }
}
