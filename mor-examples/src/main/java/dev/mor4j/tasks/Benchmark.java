package dev.mor4j.tasks;

import dev.mor4j.core.MorException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Draws the benchmark: for every task a held-out test split and a train split, and the pre-training corpus.
 *
 * <p>Deterministic: everything comes from {@link SeedStreams} of the seed, one stream per task and split (and
 * per pre-training operation), so the same settings give the same items in the same order. The test split of a
 * task is drawn first; the train split then skips every prompt of the test split, so no test prompt (and so no
 * test item) is ever trained on. Prompts are unique within each split as well. Train items are shuffled across
 * tasks; test items are grouped by task in {@link BenchmarkTask} order. Every item gets four choices: the
 * answer at a random position among the task's three distractors.
 */
public final class Benchmark {

    /** How many draws are tried per wanted item before concluding the task has too few distinct prompts. */
    private static final int DRAWS_PER_ITEM = 50;

    /** The drawn items. */
    public record Splits(List<BenchmarkItem> train, List<BenchmarkItem> test, List<PretrainItem> pretrain) {
        public Splits {
            train = List.copyOf(train);
            test = List.copyOf(test);
            pretrain = List.copyOf(pretrain);
        }
    }

    private final long seed;
    private final int trainPerTask;
    private final int testPerTask;
    private final int pretrainPerOperation;

    private Benchmark(Builder b) {
        this.seed = b.seed;
        this.trainPerTask = b.trainPerTask;
        this.testPerTask = b.testPerTask;
        this.pretrainPerOperation = b.pretrainPerOperation;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Draws all splits.
     *
     * @throws MorException when a task cannot supply that many distinct prompts
     */
    public Splits generate() {
        List<BenchmarkItem> train = new ArrayList<>();
        List<BenchmarkItem> test = new ArrayList<>();
        for (BenchmarkTask task : BenchmarkTask.values()) {
            Set<String> testPrompts = new HashSet<>();
            test.addAll(draw(task, "test", testPerTask, testPrompts, Set.of()));
            train.addAll(draw(task, "train", trainPerTask, new HashSet<>(), testPrompts));
        }
        Collections.shuffle(train, SeedStreams.stream(seed, "shuffle/train"));
        List<PretrainItem> pretrain = new ArrayList<>();
        for (PretrainOperation op : PretrainOperation.values()) {
            pretrain.addAll(pretrain(op));
        }
        Collections.shuffle(pretrain, SeedStreams.stream(seed, "shuffle/pretrain"));
        return new Splits(train, test, pretrain);
    }

    /** {@code n} items of a task with prompts not in {@code excluded}, each prompt added to {@code seen}. */
    private List<BenchmarkItem> draw(BenchmarkTask task, String split, int n, Set<String> seen, Set<String> excluded) {
        Random rnd = SeedStreams.stream(seed, task.taskName() + "/" + split);
        List<BenchmarkItem> out = new ArrayList<>(n);
        distinct(task.taskName() + ": ", split + " prompts", n, rnd, task::draw, seen, excluded, e -> {
            List<String> choices = new ArrayList<>(e.distractors());
            int label = rnd.nextInt(choices.size() + 1);
            choices.add(label, e.answer());
            String id = String.format(Locale.ROOT, "%s-%s-%04d", task.taskName(), split, out.size());
            out.add(new BenchmarkItem(task.taskName(), id, e.prompt(), e.answer(), choices, label));
        });
        return out;
    }

    private List<PretrainItem> pretrain(PretrainOperation op) {
        Random rnd = SeedStreams.stream(seed, op.datasetName());
        List<PretrainItem> out = new ArrayList<>(pretrainPerOperation);
        distinct(op.datasetName() + ": ", "prompts", pretrainPerOperation, rnd, op::draw, new HashSet<>(), Set.of(),
                e -> out.add(new PretrainItem(op.datasetName(),
                        String.format(Locale.ROOT, "%s-%04d", op.datasetName(), out.size()), e.prompt(), e.answer())));
        return out;
    }

    /**
     * Draws until {@code n} examples with new prompts (not in {@code seen}, nor in {@code excluded}) have been
     * given to {@code accept}, in drawing order, each prompt added to {@code seen}.
     *
     * @throws MorException after {@value #DRAWS_PER_ITEM}·n + 1000 draws, when the generator has too few
     *                      distinct prompts
     */
    static void distinct(String name, String what, int n, Random rnd, TaskGenerator generator, Set<String> seen,
                         Set<String> excluded, Consumer<TaskExample> accept) {
        long limit = (long) DRAWS_PER_ITEM * n + 1000;
        int found = 0;
        for (long draws = 0; found < n; draws++) {
            if (draws == limit) {
                throw new MorException(name + "found only " + found + " distinct " + what + " in " + draws
                        + " draws (wanted " + n + "); ask for fewer items");
            }
            TaskExample e = generator.draw(rnd);
            if (!excluded.contains(e.prompt()) && seen.add(e.prompt())) {
                found++;
                accept.accept(e);
            }
        }
    }

    /** Settings of the benchmark; every one has a default. */
    public static final class Builder {
        private long seed = 0;
        private int trainPerTask = 1000;
        private int testPerTask = 200;
        private int pretrainPerOperation = 1000;

        private Builder() {
        }

        /** Seeds every random choice (default 0). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Train items per task (default 1000). */
        public Builder trainPerTask(int n) {
            this.trainPerTask = positive(n, "train items per task");
            return this;
        }

        /** Held-out test items per task (default 200). */
        public Builder testPerTask(int n) {
            this.testPerTask = positive(n, "test items per task");
            return this;
        }

        /** Pre-training conversations per {@link PretrainOperation} (default 1000; 0 for none). */
        public Builder pretrainPerOperation(int n) {
            if (n < 0) {
                throw new MorException("pre-training items per operation must be at least 0, got " + n);
            }
            this.pretrainPerOperation = n;
            return this;
        }

        public Benchmark build() {
            return new Benchmark(this);
        }

        private static int positive(int n, String what) {
            if (n < 1) {
                throw new MorException(what + " must be at least 1, got " + n);
            }
            return n;
        }
    }
}
