package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.Message;
import dev.mor4j.llama.data.Role;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.tasks.Benchmark;
import dev.mor4j.tasks.BenchmarkFiles;
import dev.mor4j.tasks.BenchmarkItem;
import dev.mor4j.tasks.BenchmarkTask;
import dev.mor4j.tasks.BpeTrainer;
import dev.mor4j.tasks.PretrainItem;
import dev.mor4j.tasks.PretrainOperation;
import dev.mor4j.tasks.TaskTokenizer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IntSummaryStatistics;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mor make-tasks}: writes the multi-task benchmark, its pre-training corpus and its small tokenizer. */
@Command(name = "make-tasks", mixinStandardHelpOptions = true,
        description = {"Write the multi-task benchmark (addition, reversal, sorting, counting, recall, dates):",
            "DIR/train.jsonl and DIR/test.jsonl (Tulu-v2), DIR/test-mc.jsonl (multiple choice for eval --tasks),",
            "DIR/test-gen.jsonl (exact match for eval --generate), DIR/pretrain.jsonl (the pre-training corpus)",
            "and DIR/tokenizer/ (a small BPE tokenizer.json trained on the corpus and the train split).",
            "The same settings always write byte-identical files; no test prompt is in the train split."})
final class MakeTasksCommand implements Callable<Integer> {

    static final String TOKENIZER_DIR = "tokenizer";

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Directory to write into.")
    Path out;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed of every random choice (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--train-per-task", paramLabel = "N", defaultValue = "1000", description = "Train items per task (default: ${DEFAULT-VALUE}).")
    int trainPerTask;

    @Option(names = "--test-per-task", paramLabel = "N", defaultValue = "200", description = "Held-out test items per task (default: ${DEFAULT-VALUE}).")
    int testPerTask;

    @Option(names = "--pretrain-per-op", paramLabel = "N", defaultValue = "1000",
            description = "Pre-training conversations per operation, 6 operations (default: ${DEFAULT-VALUE}).")
    int pretrainPerOp;

    @Option(names = "--vocab-size", paramLabel = "N", defaultValue = "640",
            description = "Most tokens of the tokenizer, 259 special and byte tokens included (default: ${DEFAULT-VALUE}).")
    int vocabSize;

    @Option(names = "--min-word-count", paramLabel = "N", defaultValue = "10",
            description = "Words rarer than this in the corpus stay one token per letter (default: ${DEFAULT-VALUE}).")
    int minWordCount;

    @Option(names = "--overwrite", description = "Replace benchmark files already in DIR.")
    boolean overwrite;

    @Override
    public Integer call() {
        List<Path> outputs = new ArrayList<>();
        BenchmarkFiles.FILES.forEach(f -> outputs.add(out.resolve(f)));
        outputs.add(out.resolve(TOKENIZER_DIR).resolve(TaskTokenizer.TOKENIZER_JSON));
        outputs.add(out.resolve(TOKENIZER_DIR).resolve(TaskTokenizer.TOKENIZER_CONFIG));
        for (Path p : outputs) {
            if (Files.exists(p) && !overwrite) {
                throw new MorException(p + " exists; pass --overwrite to replace the benchmark files in " + out);
            }
        }
        Benchmark.Splits splits = Benchmark.builder().seed(seed).trainPerTask(trainPerTask).testPerTask(testPerTask)
                .pretrainPerOperation(pretrainPerOp).build().generate();
        BenchmarkFiles.write(splits, out);
        BpeTrainer.Vocabulary vocabulary = TaskTokenizer.train(splits, vocabSize, minWordCount);
        Path tokenizerDir = out.resolve(TOKENIZER_DIR);
        TaskTokenizer.write(vocabulary, tokenizerDir);
        printSummary(System.out, splits, vocabulary, Tokenizer.load(tokenizerDir));
        return 0;
    }

    private void printSummary(PrintStream o, Benchmark.Splits splits, BpeTrainer.Vocabulary vocabulary, Tokenizer tok) {
        TuluEncoder encoder = new TuluEncoder(tok, Integer.MAX_VALUE);
        o.printf(Locale.ROOT, "benchmark in %s (seed %d)%n", out, seed);
        o.printf(Locale.ROOT, "%-10s %6s %5s  %-14s  %s%n", "task", "train", "test", "tokens mean/max", "example");
        for (BenchmarkTask task : BenchmarkTask.values()) {
            List<BenchmarkItem> train = splits.train().stream().filter(i -> i.task().equals(task.taskName())).toList();
            List<BenchmarkItem> test = splits.test().stream().filter(i -> i.task().equals(task.taskName())).toList();
            IntSummaryStatistics tokens = train.stream()
                    .mapToInt(i -> length(encoder, i.id(), i.task(), i.prompt(), i.answer())).summaryStatistics();
            BenchmarkItem e = test.get(0);
            o.printf(Locale.ROOT, "%-10s %6d %5d  %8.1f %5d  %s → %s%n", task.taskName(), train.size(), test.size(),
                    tokens.getAverage(), tokens.getMax(), e.prompt().replace("\n", "⏎"), e.answer());
        }
        if (!splits.pretrain().isEmpty()) {
            IntSummaryStatistics tokens = splits.pretrain().stream()
                    .mapToInt(i -> length(encoder, i.id(), i.operation(), i.prompt(), i.answer())).summaryStatistics();
            PretrainItem e = splits.pretrain().get(0);
            o.printf(Locale.ROOT, "%-10s %6d %5s  %8.1f %5d  %s → %s%n", "pretrain", splits.pretrain().size(), "-",
                    tokens.getAverage(), tokens.getMax(), e.prompt().replace("\n", "⏎"), e.answer());
            o.printf(Locale.ROOT, "pretrain operations: %s%n", String.join(", ",
                    java.util.Arrays.stream(PretrainOperation.values()).map(PretrainOperation::datasetName).toList()));
        }
        int characters = (int) vocabulary.tokens().stream().filter(t -> t.codePointCount(0, t.length()) == 1).count();
        o.printf(Locale.ROOT, "tokenizer: %d tokens (%d special and byte, %d characters, %d merged; %d merges) in %s%n",
                tok.vocabSize(), BpeTrainer.RESERVED, characters, vocabulary.tokens().size() - characters,
                vocabulary.merges().size(), out.resolve(TOKENIZER_DIR));
        o.printf(Locale.ROOT, "files: %s (%d conversations), %s (%d), %s (%d items, 4 choices), %s (%d), %s (%d)%n",
                BenchmarkFiles.TRAIN, splits.train().size(), BenchmarkFiles.TEST, splits.test().size(),
                BenchmarkFiles.TEST_MC, splits.test().size(), BenchmarkFiles.TEST_GEN, splits.test().size(),
                BenchmarkFiles.PRETRAIN, splits.pretrain().size());
        o.printf(Locale.ROOT, "evaluate: ./mor eval --model MODEL --tokenizer %s --tasks %s --generate %s%n",
                out.resolve(TOKENIZER_DIR), out.resolve(BenchmarkFiles.TEST_MC), out.resolve(BenchmarkFiles.TEST_GEN));
        o.flush();
    }

    private static int length(TuluEncoder encoder, String id, String dataset, String prompt, String answer) {
        return encoder.encode(new Conversation(id, dataset,
                List.of(new Message(Role.USER, prompt), new Message(Role.ASSISTANT, answer)))).length();
    }
}
