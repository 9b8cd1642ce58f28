package dev.mor4j.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * The benchmark report: machine, ND4J's GEMM speed, the projection table (JMH, {@link ProjectionBenchmark}),
 * the projection targets (interleaved, {@link ProjectionRatios}) and the training step on a random
 * LLaMA-2-7B-width model ({@link TrainingRun}); printed as tables and written as JSON.
 *
 * <p>Usage: {@code Report [--full] [--out FILE] [--skip-jmh] [--skip-training]}, or {@code Report --forms [--out
 * FILE]}. The quick configuration (the default) takes a few minutes: projections at {@code 4096→11008}, T = 256,
 * short JMH runs, MoR's training step only. {@code --full} covers both FFN shapes, T ∈ {256, 1024}, longer runs and
 * all three adapters' steps. {@code --forms} runs only the JMH projection table of the frozen layer and MoR's three
 * forms ({@link #FORMS}) with {@code --full}'s settings (both shapes, T ∈ {256, 1024}; about 12 minutes) and writes
 * {@code bench-results/forms.json}.
 */
public final class Report {

    /** The variants of {@code --forms}: the frozen layer and MoR N 8, r 8 in its three forms. */
    static final List<Variant> FORMS = List.of(Variant.BASE, Variant.MOR_STACKED, Variant.MOR_EXPANDED,
            Variant.MOR_LOOP);

    private Report() {
    }

    public static void main(String[] args) throws IOException, RunnerException {
        boolean full = false;
        boolean jmh = true;
        boolean training = true;
        boolean forms = false;
        Path out = Path.of("bench-results", "quick.json");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--full" -> full = true;
                case "--forms" -> forms = true;
                case "--skip-jmh" -> jmh = false;
                case "--skip-training" -> training = false;
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; expected --full, --forms, --out FILE, --skip-jmh, --skip-training");
            }
        }
        if (forms) {
            formsTable(out.equals(Path.of("bench-results", "quick.json")) ? Path.of("bench-results", "forms.json") : out);
            return;
        }
        if (full && out.equals(Path.of("bench-results", "quick.json"))) {
            out = Path.of("bench-results", "full.json");
        }
        ObjectNode report = JsonNodeFactory.instance.objectNode();
        report.put("configuration", full ? "full" : "quick");
        ObjectNode machine = MachineInfo.json();
        report.set("machine", machine);
        System.out.println("machine: " + MachineInfo.line(machine));

        ArrayNode gemm = report.putArray("gemm");
        System.out.println("\nND4J float32 GEMM [T,4096]x[4096,11008] (Nd4j.gemm, preallocated output)");
        for (int t : full ? new int[] {256, 512, 1024} : new int[] {256, 512}) {
            GemmThroughput.Result g = GemmThroughput.measure(t, 2, full ? 15 : 7);
            System.out.printf(Locale.ROOT, "  T=%-5d %8.1f ms  %6.1f GFLOP/s (median)  %6.1f GFLOP/s (best)%n", t,
                    g.medianMillis(), g.medianGflops(), g.bestGflops());
            ObjectNode o = gemm.addObject();
            o.put("tokens", t);
            o.put("median_ms", g.medianMillis());
            o.put("median_gflops", g.medianGflops());
            o.put("best_gflops", g.bestGflops());
        }

        if (jmh) {
            report.set("projections", projectionTable(full));
        }

        System.out.println("\nTargets at T=256, 4096->11008 (interleaved rounds, median [p25-p75])");
        ObjectNode targets = ProjectionRatios.measure(4096, 11008, 256, 2, full ? 40 : 8);
        report.set("projection_targets", targets);
        printTargets(targets);

        if (training) {
            ArrayNode steps = report.putArray("training_step");
            System.out.println("\nTraining step, 2 layers at LLaMA-2-7B width, vocab 32000, T=512, batch 1, adapters on"
                    + " gate/up/down (each in its own JVM: " + String.join(" ", TrainingRun.JVM_OPTIONS) + ")");
            System.out.printf("  %-14s %-18s %10s %9s %18s %18s %9s %18s %9s %9s %9s%n", "adapter", "path",
                    "forward s", "step s", "step/forward", "grads/forward", "tokens/s", "step/its GEMMs",
                    "GEMM GF/s", "peak RSS", "peak heap");
            List<Variant> variants = full ? List.of(Variant.LORA_R8, Variant.MOR_EXPANDED, Variant.MOELORA_2)
                    : List.of(Variant.MOR_EXPANDED);
            for (Variant v : variants) {
                for (boolean defaults : v == Variant.MOR_EXPANDED ? new boolean[] {false, true} : new boolean[] {false}) {
                    ObjectNode r = TrainingRun.inChild(v, 2, 512, 1, full ? 5 : 3, defaults);
                    steps.add(r);
                    System.out.printf(Locale.ROOT, "  %-14s %-18s %10.2f %9.2f %18s %18s %9.1f %18s %9.1f %8.2fG"
                            + " %8.2fG%n", v, r.get("path").asText(), r.get("forward_ms").get("median").asDouble() / 1e3,
                            r.get("step_ms").get("median").asDouble() / 1e3, range(r.get("step_over_forward")),
                            range(r.get("gradients_over_forward")), r.get("tokens_per_second").asDouble(),
                            r.has("step_over_its_gemms") ? range(r.get("step_over_its_gemms")) : "-",
                            r.has("replay_gflops") ? r.get("replay_gflops").asDouble() : Double.NaN,
                            r.get("peak_physical_bytes").asDouble() / 1e9, r.get("peak_heap_bytes").asDouble() / 1e9);
                }
            }
        }
        report.put("load_average_1min_end", MachineInfo.loadAverage());
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, report.toPrettyString());
        System.out.println("\nwrote " + out);
    }

    private static String range(com.fasterxml.jackson.databind.JsonNode s) {
        return String.format(Locale.ROOT, "%.2f [%.2f-%.2f]", s.get("median").asDouble(), s.get("p25").asDouble(),
                s.get("p75").asDouble());
    }

    private static void printTargets(ObjectNode t) {
        ObjectNode r = (ObjectNode) t.get("ratios");
        String[][] rows = {
            {"base_fb_over_base_f", "frozen fwd+bwd / base fwd", "<= 2.20"},
            {"mor_fb_over_base_f", "MoR fwd+bwd / base fwd", "<= 2.40"},
            {"mor_bwd_over_lora64_bwd", "MoR bwd / LoRA r64 bwd", "<= 1.00"},
            {"mor_f_over_base_f", "MoR fwd / base fwd", "<= 1.05"},
            {"mor_fb_over_base_fb", "MoR fwd+bwd / base fwd+bwd", "<= 1.08"},
        };
        for (String[] row : rows) {
            System.out.printf("  %-30s %-22s target %s%n", row[1], range(r.get(row[0])), row[2]);
        }
        ObjectNode g = (ObjectNode) t.get("over_gemm");
        System.out.println("  over ND4J's bare GEMM of the same shape, same rounds:");
        for (String name : new String[] {"base_f", "base_fb", "mor_f", "mor_fb"}) {
            System.out.printf("  %-30s %-22s%n", name.replace('_', ' ') + " / GEMM", range(g.get(name + "_over_gemm")));
        }
        ObjectNode b = (ObjectNode) t.get("before");
        System.out.println("  before (frozen W through mmul, MoR factors by broadcasting, calculateGradients, SameDiff's"
                + " session), rounds of their own, over the base forward of those rounds:");
        String[][] beforeRows = {
            {"base_f_over_base_f", "frozen fwd / base fwd"},
            {"base_fb_over_base_f", "frozen fwd+bwd / base fwd"},
            {"mor_f_over_base_f", "MoR fwd / base fwd"},
            {"mor_fb_over_base_f", "MoR fwd+bwd / base fwd"},
            {"mor_fb_over_base_fb", "MoR fwd+bwd / its base fwd+bwd"},
        };
        for (String[] row : beforeRows) {
            System.out.printf("  %-30s %-22s%n", row[1], range(b.get(row[0])));
        }
        ObjectNode ms = (ObjectNode) t.get("ms");
        System.out.printf(Locale.ROOT, "  (ms: GEMM %.1f, base fwd %.1f, base f+b %.1f, MoR fwd %.1f, MoR f+b %.1f, LoRA64 fwd"
                + " %.1f, LoRA64 f+b %.1f)%n", ms.get("gemm").get("median").asDouble(),
                ms.get("base.f").get("median").asDouble(), ms.get("base.fb").get("median").asDouble(),
                ms.get("mor.f").get("median").asDouble(), ms.get("mor.fb").get("median").asDouble(),
                ms.get("lora64.f").get("median").asDouble(), ms.get("lora64.fb").get("median").asDouble());
    }

    /** {@code --forms}: the JMH table of {@link #FORMS} with the full settings, as JSON in {@code out}. */
    private static void formsTable(Path out) throws IOException, RunnerException {
        ObjectNode report = JsonNodeFactory.instance.objectNode();
        report.put("configuration", "forms");
        ObjectNode machine = MachineInfo.json();
        report.set("machine", machine);
        System.out.println("machine: " + MachineInfo.line(machine));
        report.set("projections", projectionTable(true, FORMS));
        report.put("load_average_1min_end", MachineInfo.loadAverage());
        System.out.printf(Locale.ROOT, "load average (1 min) at the end: %.2f%n", MachineInfo.loadAverage());
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, report.toPrettyString());
        System.out.println("\nwrote " + out);
    }

    /** Runs {@link ProjectionBenchmark} and prints milliseconds and ratios to BASE of the same shape and T. */
    private static ArrayNode projectionTable(boolean full) throws RunnerException {
        return projectionTable(full, List.of());
    }

    /** As {@link #projectionTable(boolean)}, for the given variants only (all when empty). */
    private static ArrayNode projectionTable(boolean full, List<Variant> variants) throws RunnerException {
        ChainedOptionsBuilder opts = new OptionsBuilder().include(ProjectionBenchmark.class.getName() + "\\.")
                .verbosity(VerboseMode.SILENT).forks(1);
        if (!variants.isEmpty()) {
            opts.param("variant", variants.stream().map(Variant::name).toArray(String[]::new));
        }
        if (full) {
            opts.warmupIterations(2).warmupTime(TimeValue.seconds(2)).measurementIterations(5)
                    .measurementTime(TimeValue.seconds(2));
        } else {
            opts.param("shape", "4096x11008").param("tokens", "256").warmupIterations(1)
                    .warmupTime(TimeValue.seconds(1)).measurementIterations(3).measurementTime(TimeValue.seconds(1));
        }
        System.out.println("\nProjection benchmarks (JMH; ms/op, mean ± 99.9% error; ratio to BASE of the same shape, T"
                + " and pass, run in this same JMH run)");
        Collection<RunResult> results = new Runner(opts.build()).run();
        List<ProjectionRow> rows = new ArrayList<>();
        for (RunResult r : results) {
            rows.add(ProjectionRow.of(r));
        }
        return ProjectionRow.printAndJson(rows);
    }
}
