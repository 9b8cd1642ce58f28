package dev.mor4j.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.openjdk.jmh.results.RunResult;

/** One JMH result of {@link ProjectionBenchmark}: which projection, which pass, and its time. */
record ProjectionRow(String shape, int tokens, Variant variant, String pass, double ms, double error, double min,
        double max) {

    static ProjectionRow of(RunResult r) {
        String bench = r.getParams().getBenchmark();
        var stats = r.getPrimaryResult().getStatistics();
        return new ProjectionRow(r.getParams().getParam("shape"), Integer.parseInt(r.getParams().getParam("tokens")),
                Variant.valueOf(r.getParams().getParam("variant")), bench.substring(bench.lastIndexOf('.') + 1),
                r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError(), stats.getMin(), stats.getMax());
    }

    /** The BASE row of the same shape, T and pass, if measured. */
    Optional<ProjectionRow> base(List<ProjectionRow> all) {
        return all.stream().filter(o -> o.variant == Variant.BASE && o.shape.equals(shape) && o.tokens == tokens
                && o.pass.equals(pass)).findFirst();
    }

    /** The BASE forward row of the same shape and T. */
    Optional<ProjectionRow> baseForward(List<ProjectionRow> all) {
        return all.stream().filter(o -> o.variant == Variant.BASE && o.shape.equals(shape) && o.tokens == tokens
                && o.pass.equals("forward")).findFirst();
    }

    static ArrayNode printAndJson(List<ProjectionRow> rows) {
        rows.sort(Comparator.comparing(ProjectionRow::shape).thenComparingInt(ProjectionRow::tokens)
                .thenComparing(ProjectionRow::variant).thenComparing(ProjectionRow::pass));
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        System.out.printf("  %-11s %5s %-13s %18s %8s %18s %8s %10s%n", "shape", "T", "variant", "forward ms", "x base",
                "fwd+bwd ms", "x base", "x base fwd");
        for (ProjectionRow f : rows) {
            if (!f.pass.equals("forward")) {
                continue;
            }
            ProjectionRow fb = rows.stream().filter(o -> o.shape.equals(f.shape) && o.tokens == f.tokens
                    && o.variant == f.variant && o.pass.equals("forwardBackward")).findFirst().orElse(null);
            double fRatio = f.base(rows).map(b -> f.ms / b.ms).orElse(Double.NaN);
            double fbRatio = fb == null ? Double.NaN : fb.base(rows).map(b -> fb.ms / b.ms).orElse(Double.NaN);
            double fbOverBaseF = fb == null ? Double.NaN : f.baseForward(rows).map(b -> fb.ms / b.ms).orElse(Double.NaN);
            System.out.printf(Locale.ROOT, "  %-11s %5d %-13s %9.1f ± %6.1f %8.2f %9s %8s %10s%n", f.shape, f.tokens,
                    f.variant, f.ms, f.error, fRatio, fb == null ? "-" : String.format(Locale.ROOT, "%.1f ± %.1f", fb.ms, fb.error),
                    fb == null ? "-" : String.format(Locale.ROOT, "%.2f", fbRatio),
                    fb == null ? "-" : String.format(Locale.ROOT, "%.2f", fbOverBaseF));
        }
        for (ProjectionRow r : rows) {
            ObjectNode o = out.addObject();
            o.put("shape", r.shape);
            o.put("tokens", r.tokens);
            o.put("variant", r.variant.name());
            o.put("pass", r.pass);
            o.put("ms", r.ms);
            o.put("error_ms", r.error);
            o.put("min_ms", r.min);
            o.put("max_ms", r.max);
            r.base(rows).ifPresent(b -> o.put("ratio_to_base", r.ms / b.ms));
            r.baseForward(rows).ifPresent(b -> o.put("ratio_to_base_forward", r.ms / b.ms));
        }
        return out;
    }
}
