package dev.mor4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.TaskSelection;
import dev.mor4j.llama.eval.ContinuationEncoder;
import dev.mor4j.llama.eval.EvalFiles;
import dev.mor4j.llama.eval.MultipleChoiceEval;
import dev.mor4j.llama.eval.MultipleChoiceItem;
import dev.mor4j.llama.eval.Perplexity;
import dev.mor4j.llama.eval.TaskResult;
import dev.mor4j.llama.eval.TokenScorer;
import dev.mor4j.llama.generate.Generator;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.tasks.ExactMatchEval;
import dev.mor4j.tasks.GenerationItem;
import dev.mor4j.tasks.GenerationItems;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mor eval}: zero-shot multiple-choice accuracy, perplexity and exact-match generation accuracy of a model
 * (and an adapter).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a model: zero-shot multiple choice by log-likelihood (--tasks), perplexity (--texts)",
            "and exact-match generation (--generate).",
            "Tasks: JSONL rows {\"task\", \"context\", \"choices\": [...], \"label\": i}; each choice is appended to the",
            "context as written. Prints n, acc and acc_norm per task and over all rows.",
            "Texts: JSONL rows {\"text\": ...}; perplexity is exp of the mean NLL over every token after BOS.",
            "Generate: JSONL rows {\"task\", \"prompt\", \"answer\"}; the greedy answer to the prompt in the Tulu chat",
            "format, up to EOS, is right when it equals the answer once both are stripped. Prints n and exact_match.",
            "A MoRE adapter needs --task NAME, or --task auto: one task per item (from its context), text or prompt."})
final class EvalCommand implements Callable<Integer> {

    @Mixin
    ModelInputs inputs;

    @Option(names = "--tasks", description = "Multiple-choice JSONL file.")
    Path tasks;

    @Option(names = "--texts", description = "JSONL file of {\"text\": ...} rows for perplexity.")
    Path texts;

    @Option(names = "--generate", description = "Exact-match generation JSONL file.")
    Path generate;

    @Option(names = "--max-new-tokens", defaultValue = "0",
            description = "With --generate: most new tokens per answer; 0 (the default) for the expected answer's"
                    + " token count + " + ExactMatchEval.SLACK_TOKENS + " + EOS.")
    int maxNewTokens;

    @Option(names = "--predictions", description = "With --generate: write every item's generated answer as JSONL"
            + " {\"id\", \"task\", \"prompt\", \"answer\", \"generated\", \"correct\"} to this file.")
    Path predictions;

    @Option(names = "--out", description = "Also write the results as JSON to this file.")
    Path out;

    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--no-bos", description = "Do not put BOS in front of multiple-choice contexts (lm-evaluation-harness's default for HF models).")
    boolean noBos;

    @Override
    public Integer call() throws IOException {
        if (tasks == null && texts == null && generate == null) {
            throw new MorException("nothing to evaluate: give --tasks FILE.jsonl, --texts FILE.jsonl and/or "
                    + "--generate FILE.jsonl");
        }
        if (generate == null && (predictions != null || maxNewTokens != 0)) {
            throw new MorException((predictions != null ? "--predictions" : "--max-new-tokens")
                    + " goes with --generate FILE.jsonl");
        }
        if (maxNewTokens < 0) {
            throw new MorException("--max-new-tokens must be at least 0 (0 = from each answer), got " + maxNewTokens);
        }
        if (out != null) {
            CliFiles.refuseOverwritingInput(out, tasks, texts, generate);
        }
        if (predictions != null) {
            CliFiles.refuseOverwritingInput(predictions, tasks, texts, generate, out);
        }
        List<MultipleChoiceItem> items = tasks == null ? null : EvalFiles.readTasks(tasks);
        List<String> textRows = texts == null ? null : EvalFiles.readTexts(texts);
        List<GenerationItem> genItems = generate == null ? null : GenerationItems.read(generate);
        LlamaModel m = inputs.loadModel();
        Tokenizer tok = inputs.loadTokenizer();
        LlamaAdapters adapters = inputs.loadAdapters(m);
        Map<String, Integer> picks = new LinkedHashMap<>(); // task name → prompts that picked it (--task auto)
        TaskSelection selection = inputs.taskSelection(m, adapters, pick -> picks.merge(pick.name(), 1, Integer::sum));
        TokenScorer scorer = null; // scoring graph, only for --tasks and --texts
        if (items != null || textRows != null) {
            LlamaGraph graph = adapters == null ? LlamaGraph.base(m.weights(), GraphKind.INFERENCE)
                    : adapters.graph(m.weights(), GraphKind.INFERENCE);
            scorer = new TokenScorer(graph, batchSize);
        }
        PrintStream stdout = System.out;
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode result = json.createObjectNode();
        result.put("model", inputs.model.toString());
        if (inputs.adapter != null) {
            result.put("adapter", inputs.adapter.toString());
        }
        if (selection != null) {
            result.put("task", inputs.task);
        }
        if (items != null) {
            MultipleChoiceEval.Report report =
                    new MultipleChoiceEval(new ContinuationEncoder(tok, !noBos), scorer, selection).run(items);
            printTable(stdout, report);
            ObjectNode perTask = result.putObject("tasks");
            for (TaskResult t : report.tasks()) {
                put(perTask.putObject(t.task()), t);
            }
            put(result.putObject(MultipleChoiceEval.ALL), report.overall());
            reportPicks(picks, "items", result);
        }
        if (textRows != null) {
            Perplexity.Result p = new Perplexity(tok, scorer, selection).compute(textRows);
            reportPicks(picks, "texts", result);
            stdout.printf(Locale.ROOT, "perplexity: %d texts, %d tokens, mean NLL %.4f, perplexity %.4f%n",
                    p.texts(), p.tokens(), p.meanNll(), p.perplexity());
            ObjectNode n = result.putObject("perplexity");
            n.put("texts", p.texts());
            n.put("tokens", p.tokens());
            n.put("mean_nll", p.meanNll());
            n.put("perplexity", p.perplexity());
        }
        if (genItems != null) {
            Generator generator = Generator.withKvCache(m.weights(), adapters, tok, selection);
            ExactMatchEval.Report report = new ExactMatchEval(ExactMatchEval.greedyChat(generator, tok, maxNewTokens))
                    .run(genItems, new GenerationProgress(genItems.size()));
            reportPicks(picks, "prompts", result);
            printExactMatch(stdout, report);
            ObjectNode gen = result.putObject("generate");
            ObjectNode perTask = gen.putObject("tasks");
            for (ExactMatchEval.Score s : report.tasks()) {
                put(perTask.putObject(s.task()), s);
            }
            put(gen.putObject(ExactMatchEval.ALL), report.overall());
            if (predictions != null) {
                writePredictions(json, report);
            }
        }
        stdout.flush();
        if (out != null) {
            AtomicFiles.writeString(out, json.writeValueAsString(result) + "\n");
            System.err.println("wrote " + out);
        }
        return 0;
    }

    /** With {@code --task auto}: prints and records how many prompts picked each task, then forgets them. */
    private static void reportPicks(Map<String, Integer> picks, String what, ObjectNode result) {
        if (picks.isEmpty()) {
            return;
        }
        int n = picks.values().stream().mapToInt(Integer::intValue).sum();
        StringBuilder line = new StringBuilder("task auto over " + n + " " + what + ":");
        ObjectNode all = result.has("auto_picks") ? (ObjectNode) result.get("auto_picks") : result.putObject("auto_picks");
        ObjectNode node = all.putObject(what);
        picks.forEach((task, count) -> {
            line.append(' ').append(task).append(' ').append(count);
            node.put(task, count);
        });
        System.err.println(line);
        picks.clear();
    }

    /** Prints how many answers have been generated, every tenth of the way, on standard error. */
    private static final class GenerationProgress implements java.util.function.Consumer<ExactMatchEval.Prediction> {
        private final int total;
        private int done;

        GenerationProgress(int total) {
            this.total = total;
        }

        @Override
        public void accept(ExactMatchEval.Prediction p) {
            done++;
            if (total >= 20 && done < total && done % Math.max(1, total / 10) == 0) {
                System.err.printf(Locale.ROOT, "generated %d/%d answers%n", done, total);
            }
        }
    }

    private void writePredictions(ObjectMapper json, ExactMatchEval.Report report) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (ExactMatchEval.Prediction p : report.predictions()) {
            ObjectNode row = json.createObjectNode();
            row.put("id", p.item().id());
            row.put("task", p.item().task());
            row.put("prompt", p.item().prompt());
            row.put("answer", p.item().answer());
            row.put("generated", p.generated());
            row.put("correct", p.correct());
            sb.append(json.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(row)).append('\n');
        }
        AtomicFiles.writeString(predictions, sb);
        System.err.println("wrote " + predictions);
    }

    private static void printExactMatch(PrintStream out, ExactMatchEval.Report report) {
        int width = ExactMatchEval.ALL.length();
        for (ExactMatchEval.Score s : report.tasks()) {
            width = Math.max(width, s.task().length());
        }
        String row = "%-" + width + "s  %6s  %11s%n";
        out.printf(Locale.ROOT, row, "task", "n", "exact_match");
        for (ExactMatchEval.Score s : report.tasks()) {
            out.printf(Locale.ROOT, row, s.task(), s.n(), String.format(Locale.ROOT, "%.4f", s.exactMatch()));
        }
        ExactMatchEval.Score all = report.overall();
        out.printf(Locale.ROOT, row, all.task(), all.n(), String.format(Locale.ROOT, "%.4f", all.exactMatch()));
    }

    private static void put(ObjectNode n, ExactMatchEval.Score s) {
        n.put("n", s.n());
        n.put("correct", s.correct());
        n.put("exact_match", s.exactMatch());
    }

    private static void printTable(PrintStream out, MultipleChoiceEval.Report report) {
        int width = MultipleChoiceEval.ALL.length();
        for (TaskResult t : report.tasks()) {
            width = Math.max(width, t.task().length());
        }
        String row = "%-" + width + "s  %6s  %7s  %8s%n";
        out.printf(Locale.ROOT, row, "task", "n", "acc", "acc_norm");
        for (TaskResult t : report.tasks()) {
            printRow(out, row, t);
        }
        printRow(out, row, report.overall());
    }

    private static void printRow(PrintStream out, String row, TaskResult t) {
        out.printf(Locale.ROOT, row, t.task(), t.n(), String.format(Locale.ROOT, "%.4f", t.acc()),
                String.format(Locale.ROOT, "%.4f", t.accNorm()));
    }

    private static void put(ObjectNode n, TaskResult t) {
        n.put("n", t.n());
        n.put("acc", t.acc());
        n.put("acc_norm", t.accNorm());
    }
}
