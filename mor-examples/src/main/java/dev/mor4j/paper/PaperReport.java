package dev.mor4j.paper;

import dev.mor4j.llama.eval.RouterProbe;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code report.md}: the experiment's tables in the layout of the MoR paper's Tables 1, 3 and 4 (accuracy in %,
 * mean ± sample standard deviation over seeds), each with the paper's column; the verdicts; the learning-rate
 * search; the router's specialisation by task and MoRE's chosen ranks; wall-clock per method; and the pictures.
 * Everything in it is computed from {@link ExperimentResults}.
 */
final class PaperReport {

    /** The pictures the report shows, in the output directory. */
    static final String CURVES_PNG = "training-curves.png";
    static final String WALL_CLOCK_PNG = "wall-clock.png";

    private final ExperimentResults r;
    private final Map<String, MethodSummary> byMethod;
    private final List<String> tasks;
    private final StringBuilder md = new StringBuilder();

    private PaperReport(ExperimentResults r, List<String> tasks) {
        this.r = r;
        this.tasks = tasks;
        this.byMethod = new java.util.LinkedHashMap<>();
        r.summaries().forEach(s -> byMethod.put(s.method(), s));
    }

    /** The report's text. */
    static String markdown(ExperimentResults r, List<String> tasks) {
        return new PaperReport(r, tasks).build();
    }

    private String build() {
        ExperimentSettings s = r.settings();
        line("# MoR at small scale: results");
        line("");
        line(String.format(Locale.ROOT, "Base model `%s`, benchmark `%s`, tokenizer `%s`.", s.base(), s.tasks(),
                s.tokenizer()));
        line(String.format(Locale.ROOT, "Every method: %d steps, batch %d, max length %d, AdamW with a linear schedule"
                        + " (%.0f %% warm-up), gradient clipping at %.1f, adapters with α 32 and dropout 0.05 on gate_proj,"
                        + " up_proj, down_proj; learning-rate grid %s; %d seed(s) at the chosen rate.", s.steps(),
                s.batch(), s.maxLen(), 100 * ExperimentSettings.WARMUP_RATIO, ExperimentSettings.MAX_GRAD_NORM,
                s.lrGrid(), s.seeds()));
        line("Learning rate: " + ExperimentResults.LR_CHOICE + ". Validation split: the last "
                + String.format(Locale.ROOT, "%.0f %%", 100 * s.validationFraction())
                + " of each task's training examples in file order (at least one); never the test files.");
        line("Test items: " + (s.testPerTask() == 0 ? "all" : "the first " + s.testPerTask()) + " of each task."
                + " Accuracy is multiple-choice `acc` in % (mean ± sample sd over seeds); the average counts each"
                + " task once.");
        line(String.format(Locale.ROOT, "Wall-clock: %.1f min of runs in all (%.1f min in the invocation that wrote"
                + " this report).", r.runSeconds() / 60, r.invocationSeconds() / 60));
        line("");
        line("Paper numbers: " + r.paperSource());
        line("");
        verdicts();
        table("Table 1 analogue: methods at similar parameter counts", List.of(PaperMethod.LORA_R8,
                PaperMethod.LORA_R16, PaperMethod.DORA_R8, PaperMethod.MOELORA_E2_R8, PaperMethod.MOR_E8_R8,
                PaperMethod.MORE_R8, PaperMethod.FULL), true);
        table("Table 3 analogue: experts (r 8) and rank (E8)", List.of(PaperMethod.MOR_E1_R8, PaperMethod.MOR_E2_R8,
                PaperMethod.MOR_E4_R8, PaperMethod.MOR_E8_R8, PaperMethod.MOR_E8_R4, PaperMethod.MOR_E8_R16,
                PaperMethod.MOR_E8_R32), false);
        table("Table 4 analogue: routers (MoR E8 r8)", List.of(PaperMethod.MOR_E8_R8, PaperMethod.MOR_E8_R8_MEAN,
                PaperMethod.MOR_E8_R8_BALANCED), false);
        exactMatch();
        lrSearch();
        router();
        ranks();
        wallClock();
        return md.toString();
    }

    private void verdicts() {
        line("## Verdicts");
        line("");
        line("| claim | paper | here | verdict |");
        line("|---|---|---|---|");
        for (Claim c : r.claims()) {
            line("| " + c.claim() + " | " + c.paper() + " | " + c.ours() + " | **" + c.verdict().text() + "** |");
        }
        line("");
        line("A claim \"A beats B\" is reproduced when A's mean − sd lies above B's mean + sd, not reproduced when A's"
                + " mean + sd lies below B's mean − sd, and inconclusive when the error bars overlap or a method ran"
                + " one seed.");
        line("");
    }

    private void table(String title, List<PaperMethod> methods, boolean perTask) {
        line("## " + title);
        line("");
        StringBuilder head = new StringBuilder("| method | trainable params | lr |");
        StringBuilder rule = new StringBuilder("|---|---:|---:|");
        if (perTask) {
            for (String t : tasks) {
                head.append(' ').append(t).append(" |");
                rule.append("---:|");
            }
        }
        head.append(" average acc | average exact match | paper |");
        rule.append("---:|---:|---|");
        line(head.toString());
        line(rule.toString());
        for (PaperMethod m : methods) {
            MethodSummary s = byMethod.get(m.cliName());
            StringBuilder row = new StringBuilder("| " + m.cliName() + " | ");
            if (s == null) {
                row.append("not run | |");
                if (perTask) {
                    row.append(" |".repeat(tasks.size()));
                }
                row.append(" | | ").append(paper(m)).append(" |");
            } else {
                row.append(params(s)).append(" | ")
                        .append(RunSpec.formatLr(s.lr())).append(" |");
                if (perTask) {
                    for (String t : tasks) {
                        row.append(' ').append(s.accuracy().get(t).format(100, 1)).append(" |");
                    }
                }
                row.append(' ').append(s.averageAccuracy().format(100, 1)).append(" | ")
                        .append(s.averageExactMatch().format(100, 1)).append(" | ").append(paper(m)).append(" |");
            }
            line(row.toString());
        }
        line("");
    }

    /** E.g. {@code 12,288 (1.9× lora-r8)}: the count, and its ratio to LoRA r8's when that was run. */
    private String params(MethodSummary s) {
        String count = String.format(Locale.ROOT, "%,d", s.trainableParameters());
        MethodSummary lora = byMethod.get(PaperMethod.LORA_R8.cliName());
        return lora == null || lora == s ? count : count + String.format(Locale.ROOT, " (%.2f× lora-r8)",
                s.trainableParameters() / (double) lora.trainableParameters());
    }

    private static String paper(PaperMethod m) {
        return m == PaperMethod.MOR_E8_R8 ? String.format(Locale.ROOT, "+%.1f over LoRA r8, +%.1f over MoE-LoRA"
                + " (Table 1)", PaperNumbers.MOR_OVER_LORA_R8, PaperNumbers.MOR_OVER_MOELORA) : "–";
    }

    private void exactMatch() {
        line("## Exact match per task (%)");
        line("");
        StringBuilder head = new StringBuilder("| method |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String t : tasks) {
            head.append(' ').append(t).append(" |");
            rule.append("---:|");
        }
        line(head.toString());
        line(rule.toString());
        for (MethodSummary s : r.summaries()) {
            StringBuilder row = new StringBuilder("| " + s.method() + " |");
            for (String t : tasks) {
                row.append(' ').append(s.exactMatch().get(t).format(100, 1)).append(" |");
            }
            line(row.toString());
        }
        line("");
    }

    private void lrSearch() {
        line("## Learning-rate search (validation loss per answer token, seed 0)");
        line("");
        if (r.searchRuns().isEmpty()) {
            line("No search: the grid has one value, " + r.settings().lrGrid().get(0) + ".");
            line("");
            return;
        }
        StringBuilder head = new StringBuilder("| method |");
        StringBuilder rule = new StringBuilder("|---|");
        for (double lr : r.settings().lrGrid()) {
            head.append(" lr ").append(RunSpec.formatLr(lr)).append(" |");
            rule.append("---:|");
        }
        line(head + " chosen |");
        line(rule + "---:|");
        for (String method : r.chosenLr().keySet()) {
            StringBuilder row = new StringBuilder("| " + method + " |");
            for (double lr : r.settings().lrGrid()) {
                Optional<RunResult> run = r.searchRuns().stream()
                        .filter(x -> x.method().equals(method) && x.lr() == lr).findFirst();
                row.append(' ').append(run.map(x -> x.diverged() || x.validationLoss() == null ? "diverged"
                        : String.format(Locale.ROOT, "%.4f", x.validationLoss())).orElse("–")).append(" |");
            }
            line(row + " " + RunSpec.formatLr(r.chosenLr().get(method)) + " |");
        }
        line("");
    }

    private void router() {
        line("## Router specialisation by task (Fig. 7 analogue)");
        line("");
        line("Index: the total-variation distance between two tasks' mean router distributions on the test prompts,"
                + " averaged over task pairs and modules (0: every task gets the same mixture; 1: disjoint experts),"
                + " mean ± sd over seeds, after training and at initialisation. Heat maps: one panel per task, module ×"
                + " expert, seed 0 (each seed numbers its experts differently, so they are not averaged).");
        line("");
        line("| method | index trained | index at init | heat map (seed 0) |");
        line("|---|---:|---:|---|");
        for (MethodSummary s : r.summaries()) {
            if (s.specialisation() != null) {
                line("| " + s.method() + " | " + s.specialisation().format(1, 3) + " | "
                        + s.specialisationAtInit().format(1, 3) + " | [" + routerPng(s.method()) + "]("
                        + routerPng(s.method()) + ") |");
            }
        }
        line("");
        r.finalRuns().stream().filter(x -> x.method().equals(PaperMethod.MOR_E8_R8.cliName()) && x.seed() == 0
                && x.router() != null).findFirst().ifPresent(x -> {
                    RouterProbe.TaskWeights w = x.router();
                    double[][] avg = Specialisation.overModules(w);
                    line("mor-e8-r8, seed 0: mean router weight per task and expert, averaged over the modules:");
                    line("");
                    StringBuilder head = new StringBuilder("| task |");
                    StringBuilder rule = new StringBuilder("|---|");
                    for (int e = 0; e < w.experts(); e++) {
                        head.append(" e").append(e).append(" |");
                        rule.append("---:|");
                    }
                    line(head.toString());
                    line(rule.toString());
                    for (int t = 0; t < w.tasks().size(); t++) {
                        StringBuilder row = new StringBuilder("| " + w.tasks().get(t) + " |");
                        for (double v : avg[t]) {
                            row.append(String.format(Locale.ROOT, " %.3f |", v));
                        }
                        line(row.toString());
                    }
                    line("");
                });
    }

    /** The router heat map of a method's seed-0 run. */
    static String routerPng(String method) {
        return "router-" + method + ".png";
    }

    /** MoRE's rank picture of seed 0. */
    static String ranksPng(String method) {
        return "ranks-" + method + ".png";
    }

    private void ranks() {
        List<RunResult> more = r.finalRuns().stream().filter(x -> x.ranks() != null).toList();
        if (more.isEmpty()) {
            return;
        }
        line("## Ranks MoRE chose per task");
        line("");
        line("Mean chosen rank over the modules, per seed ([" + ranksPng(more.get(0).method()) + "]("
                + ranksPng(more.get(0).method()) + "): every module, seed 0):");
        line("");
        line("| task |" + more.stream().map(x -> " seed " + x.seed() + " |").reduce("", String::concat));
        line("|---|" + "---:|".repeat(more.size()));
        List<String> moreTasks = more.get(0).ranks().tasks();
        for (int t = 0; t < moreTasks.size(); t++) {
            StringBuilder row = new StringBuilder("| " + moreTasks.get(t) + " |");
            for (RunResult x : more) {
                int[] chosen = x.ranks().chosenRanks()[t];
                row.append(String.format(Locale.ROOT, " %.2f |", java.util.Arrays.stream(chosen).average()
                        .orElse(Double.NaN)));
            }
            line(row.toString());
        }
        line("");
        line("```");
        md.append(more.get(0).ranks().table());
        line("```");
        line("");
    }

    private void wallClock() {
        line("## Wall-clock per method");
        line("");
        line("| method | training s per run | s per step | evaluation s per run | final loss |");
        line("|---|---:|---:|---:|---:|");
        for (MethodSummary s : r.summaries()) {
            line("| " + s.method() + " | " + s.trainSeconds().format(1, 1) + " | " + s.secondsPerStep().format(1, 3)
                    + " | " + s.evalSeconds().format(1, 1) + " | " + s.finalLoss().format(1, 3) + " |");
        }
        line("");
        line("Pictures: [" + CURVES_PNG + "](" + CURVES_PNG + ") (training loss per step, mean over seeds), ["
                + WALL_CLOCK_PNG + "](" + WALL_CLOCK_PNG + ") (wall-clock per method).");
    }

    private void line(String s) {
        md.append(s).append('\n');
    }
}
