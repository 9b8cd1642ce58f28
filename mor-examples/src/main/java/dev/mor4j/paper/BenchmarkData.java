package dev.mor4j.paper;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodeStats;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.data.TuluReader;
import dev.mor4j.llama.eval.EvalFiles;
import dev.mor4j.llama.eval.MultipleChoiceItem;
import dev.mor4j.llama.generate.ChatTemplate;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.tasks.BenchmarkFiles;
import dev.mor4j.tasks.GenerationItem;
import dev.mor4j.tasks.GenerationItems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The benchmark of {@code mor make-tasks} as the experiment uses it: {@code train.jsonl} encoded for training (each
 * example's task is its {@code dataset}), its {@link ValidationSplit}, and per task the test items of
 * {@code test-mc.jsonl} (multiple choice) and {@code test-gen.jsonl} (exact match), the first {@code testPerTask}
 * of each task (all with 0), with the generation prompts tokenized as generation formats them (the Tulu chat
 * format, BOS first), for measuring router weights.
 *
 * @param train      every training example, in file order
 * @param split      the learning-rate search's split of {@code train}
 * @param tasks      the tasks, in order of first appearance in {@code test-mc.jsonl}
 * @param mc         multiple-choice items per task
 * @param gen        exact-match items per task
 * @param promptIds  the generation items' prompts as the model reads them, task by task
 * @param promptTask the task of each of {@code promptIds}
 */
public record BenchmarkData(List<EncodedExample> train, ValidationSplit split, List<String> tasks,
        Map<String, List<MultipleChoiceItem>> mc, Map<String, List<GenerationItem>> gen, List<int[]> promptIds,
        List<String> promptTask) {

    /**
     * Reads the benchmark in {@code dir}.
     *
     * @throws MorException naming the file when one is missing, a line is bad, or the test files' tasks are not
     *                      the train file's
     */
    public static BenchmarkData read(Path dir, Tokenizer tok, ExperimentSettings s) {
        Path trainFile = require(dir.resolve(BenchmarkFiles.TRAIN));
        Path mcFile = require(dir.resolve(BenchmarkFiles.TEST_MC));
        Path genFile = require(dir.resolve(BenchmarkFiles.TEST_GEN));
        EncodeStats stats = new EncodeStats();
        List<EncodedExample> train;
        try (TuluReader reader = TuluReader.openStrict(trainFile)) {
            train = new TuluEncoder(tok, s.maxLen()).encodeAll(reader.stream(), stats).toList();
        }
        if (stats.truncated() > 0 || stats.droppedWithoutTrainableTokens() > 0) {
            throw new MorException(trainFile + ": " + stats.truncated() + " examples longer than --max-len "
                    + s.maxLen() + " (" + stats.droppedWithoutTrainableTokens() + " of them with no answer left);"
                    + " every method must see whole examples: raise --max-len");
        }
        Map<String, List<MultipleChoiceItem>> mc = byTask(EvalFiles.readTasks(mcFile), MultipleChoiceItem::task,
                s.testPerTask());
        Map<String, List<GenerationItem>> gen = byTask(GenerationItems.read(genFile), GenerationItem::task,
                s.testPerTask());
        List<String> tasks = new ArrayList<>(mc.keySet());
        TreeSet<String> trainTasks = new TreeSet<>();
        train.forEach(e -> trainTasks.add(e.dataset()));
        if (!trainTasks.equals(new TreeSet<>(tasks)) || !new TreeSet<>(gen.keySet()).equals(trainTasks)) {
            throw new MorException(dir + ": the tasks differ between " + BenchmarkFiles.TRAIN + " " + trainTasks
                    + ", " + BenchmarkFiles.TEST_MC + " " + new TreeSet<>(tasks) + " and " + BenchmarkFiles.TEST_GEN
                    + " " + new TreeSet<>(gen.keySet()));
        }
        List<int[]> promptIds = new ArrayList<>();
        List<String> promptTask = new ArrayList<>();
        for (String task : tasks) {
            for (GenerationItem item : gen.get(task)) {
                promptIds.add(tok.encode(ChatTemplate.tulu(tok, item.prompt()), true));
                promptTask.add(task);
            }
        }
        return new BenchmarkData(train, ValidationSplit.of(train, s.validationFraction()), tasks, mc, gen, promptIds,
                promptTask);
    }

    /** MoRE's tasks as training names them: the distinct datasets of the training examples, sorted. */
    public List<String> sortedTasks() {
        return new ArrayList<>(new TreeSet<>(tasks));
    }

    /** Multiple-choice items evaluated, over all tasks. */
    public int mcCount() {
        return mc.values().stream().mapToInt(List::size).sum();
    }

    /** Exact-match items evaluated, over all tasks. */
    public int genCount() {
        return gen.values().stream().mapToInt(List::size).sum();
    }

    /** The same data with only the first {@code n} test items of each task (for timing). */
    public BenchmarkData firstTestItems(int n) {
        Map<String, List<MultipleChoiceItem>> mcHead = new LinkedHashMap<>();
        Map<String, List<GenerationItem>> genHead = new LinkedHashMap<>();
        List<int[]> ids = new ArrayList<>();
        List<String> idTasks = new ArrayList<>();
        for (String task : tasks) {
            mcHead.put(task, mc.get(task).subList(0, Math.min(n, mc.get(task).size())));
            genHead.put(task, gen.get(task).subList(0, Math.min(n, gen.get(task).size())));
        }
        for (int i = 0; i < promptIds.size(); i++) {
            String task = promptTask.get(i);
            if (idTasks.stream().filter(task::equals).count() < n) {
                ids.add(promptIds.get(i));
                idTasks.add(task);
            }
        }
        return new BenchmarkData(train, split, tasks, mcHead, genHead, ids, idTasks);
    }

    private static <T> Map<String, List<T>> byTask(List<T> items, Function<T, String> task, int perTask) {
        Map<String, List<T>> out = new LinkedHashMap<>();
        for (T item : items) {
            List<T> list = out.computeIfAbsent(task.apply(item), k -> new ArrayList<>());
            if (perTask == 0 || list.size() < perTask) {
                list.add(item);
            }
        }
        return out;
    }

    private static Path require(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new MorException(file + ": not found; expected the benchmark of mor make-tasks --out "
                    + file.getParent());
        }
        return file;
    }
}
