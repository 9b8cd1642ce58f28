package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.train.GradientFunction;
import dev.mor4j.core.train.StepMetrics;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.GoldenBatch;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** MoRE on the bundled LLaMA: mixed-task batches, training on the Tulu sample's datasets, exact resume. */
class MoreFineTuneTest {

    private static final List<EncodedExample> SAMPLE = TrainFixtures.sample(256);

    private static LlamaModel model() {
        return TrainFixtures.model();
    }

    static AdapterConfig more(double dropout, List<String> tasks) {
        return AdapterConfig.more(tasks).rank(8).alpha(32).dropout(dropout).rankExperts(1, 2, 4, 8)
                .taskLossWeight(0.1).taskTemperature(0.05).build();
    }

    /** MoRE adapters whose B and task embeddings are random and large enough that tasks use different ranks. */
    static LlamaAdapters trainedLooking(AdapterConfig config) {
        LlamaAdapters a = LlamaAdapters.create(model().weights(), config, 5);
        a.weights().forEach((k, v) -> {
            if (k.endsWith("lora_B.weight") || k.endsWith("more_task_embedding")) {
                v.assign(Nd4j.rand(k.hashCode(), v.shape()).subi(0.5).muli(k.endsWith("lora_B.weight") ? 0.2 : 20));
            }
        });
        return a;
    }

    @Test
    void aBatchOfMixedTasksGivesEachRowWhatItGetsAlone() {
        LlamaAdapters adapters = trainedLooking(more(0.0, List.of("a", "b", "c")));
        RankSelection selection = RankSelection.of(adapters);
        assertTrue(Arrays.stream(selection.chosenRanks()).map(Arrays::toString).distinct().count() > 1,
                "the tasks should choose different ranks somewhere:\n" + selection.table());
        Batch golden = GoldenBatch.golden();
        long[] tasks = new long[golden.batchSize()];
        for (int i = 0; i < tasks.length; i++) {
            tasks[i] = i % 3;
        }
        LlamaGraph graph = adapters.graph(model().weights(), GraphKind.LOSS);
        INDArray mixed = LlamaForward.run(graph, golden.withTaskIds(tasks)).logits(); // [B, T, V]
        int t = golden.seqLen();
        for (int row = 0; row < golden.batchSize(); row++) {
            Batch alone = new Batch(new long[][] {golden.inputIds()[row]}, new long[][] {golden.attentionMask()[row]},
                    new long[][] {golden.labels()[row]}, new long[] {tasks[row]});
            INDArray single = LlamaForward.run(graph, alone).logits().get(NDArrayIndex.point(0),
                    NDArrayIndex.all(), NDArrayIndex.all()); // [T, V]
            INDArray rows = mixed.get(NDArrayIndex.point(row), NDArrayIndex.all(), NDArrayIndex.all()); // [T, V]
            for (int j = 0; j < t; j++) {
                if (golden.attentionMask()[row][j] != 0) {
                    double d = TestData.maxAbsDiff(rows.getRow(j), single.getRow(j));
                    assertTrue(d <= 1e-5, "row " + row + " position " + j + ": " + d);
                }
            }
        }
        // another task gives other logits: the rows really are adapted per task
        INDArray other = LlamaForward.run(graph, golden.withTaskIds(new long[] {2, 2})).logits();
        assertTrue(TestData.maxAbsDiff(mixed, other) > 1e-4);
        MorException e = assertThrows(MorException.class, () -> LlamaForward.run(graph, golden));
        assertTrue(e.getMessage().contains("needs each example's task: task_ids"), e.getMessage());
        e = assertThrows(MorException.class,
                () -> LlamaForward.run(graph, golden.withTaskIds(new long[] {0, 3})));
        assertTrue(e.getMessage().contains("task_ids[1] = 3 is outside [0, 3)"), e.getMessage());
    }

    @Test
    void aPackedBatchHasThePaddedLossAndGradients() {
        // packing (the trainer's default) puts several examples, of different tasks, in one row: each must still
        // get its own rank mask and its own mean input for the task-alignment loss
        TaskIndex tasks = TaskIndex.fromExamples(SAMPLE);
        LlamaAdapters adapters = trainedLooking(more(0.0, tasks.names()));
        LlamaGraph training = adapters.graph(model().weights(), GraphKind.TRAINING);
        int longest = SAMPLE.stream().mapToInt(EncodedExample::length).max().orElseThrow();
        Batch padded = BatchCollator.collate(SAMPLE).withTaskIds(tasks.idsOf(SAMPLE));
        Batch packed = PackingCollator.pack(SAMPLE, longest).withTaskIds(tasks.idsOf(SAMPLE));
        assertTrue(packed.batchSize() < padded.batchSize(), packed.batchSize() + " rows");
        List<String> wrt = new ArrayList<>(adapters.weights().keySet());
        OutAndGrad a = training.gradients(training.feeds(padded, LlamaFeeds.Reduction.MEAN), wrt);
        OutAndGrad b = training.gradients(training.feeds(packed, LlamaFeeds.Reduction.MEAN), wrt);
        double lossA = a.getOutputs().get(LlamaGraph.TOTAL_LOSS).getDouble(0);
        double lossB = b.getOutputs().get(LlamaGraph.TOTAL_LOSS).getDouble(0);
        assertTrue(Math.abs(lossA - lossB) <= 1e-5 * Math.abs(lossA), "loss " + lossA + " padded, " + lossB + " packed");
        double worst = 0;
        for (String k : wrt) {
            INDArray ga = a.getGradients().get(k);
            double norm = ga.norm2Number().doubleValue();
            assertTrue(norm > 0, k + " has no gradient");
            double rel = b.getGradients().get(k).sub(ga).norm2Number().doubleValue() / norm;
            worst = Math.max(worst, rel);
            assertTrue(rel <= 1e-5, k + " differs by " + rel + " of its norm");
        }
        System.out.printf("MoRE on the Tulu sample (%d tasks), %d rows padded vs %d packed: loss %.9g vs %.9g, worst"
                + " gradient relative difference %.2g over %d weights%n", tasks.names().size(), padded.batchSize(),
                packed.batchSize(), lossA, lossB, worst, wrt.size());
    }

    private static TrainConfig config(int steps) {
        return TrainConfig.builder().learningRate(5e-3).maxSteps(steps).seed(3).saveSteps(2).build();
    }

    private static LlamaFineTune fineTune(LlamaAdapters adapters, Path out, int steps) {
        return LlamaFineTune.builder(model(), adapters, SAMPLE).trainConfig(config(steps))
                .options(FineTuneOptions.defaults().withBatchSize(3)).outputDir(out).messages(m -> { }).build();
    }

    @Test
    void trainingOnTheSamplesDatasetsLowersTheLossAndResumesExactly(@TempDir Path tmp) throws Exception {
        TaskIndex tasks = TaskIndex.fromExamples(SAMPLE);
        AdapterConfig config = more(0.05, tasks.names());
        Path straightDir = tmp.resolve("straight");
        LlamaAdapters straight = LlamaAdapters.create(model().weights(), config, 8);
        FineTuneResult s = fineTune(straight, straightDir, 6).train();
        double first = s.steps().get(0).loss();
        double last = s.steps().get(5).loss();
        System.out.printf("6 MoRE steps on the Tulu sample (%d tasks): loss %.4f -> %.4f%n", tasks.names().size(),
                first, last);
        assertTrue(s.steps().stream().noneMatch(StepMetrics::skipped));
        assertTrue(last < first, "loss " + first + " -> " + last);
        RankSelection selection = RankSelection.read(straightDir.resolve(RouterStats.FILE));
        assertEquals(tasks.names(), selection.tasks());
        assertEquals(6, selection.modules().size());

        Path splitDir = tmp.resolve("split");
        fineTune(LlamaAdapters.create(model().weights(), config, 8), splitDir, 6).train(3);
        List<String> reversed = new ArrayList<>(tasks.names());
        Collections.reverse(reversed);
        LlamaFineTune otherOrder = fineTune(LlamaAdapters.create(model().weights(), more(0.05, reversed), 99),
                splitDir, 6);
        MorException wrongTasks = assertThrows(MorException.class, () -> otherOrder.resume(splitDir));
        assertTrue(wrongTasks.getMessage().contains("checkpoint-3" + File.separator + "adapter_config.json: the"
                + " checkpoint was trained with the tasks " + tasks.names() + " but this run has " + reversed),
                wrongTasks.getMessage());
        LlamaAdapters resumed = LlamaAdapters.create(model().weights(), config, 99);
        LlamaFineTune second = fineTune(resumed, splitDir, 6);
        second.resume(splitDir);
        second.train();
        for (Map.Entry<String, INDArray> e : straight.weights().entrySet()) {
            assertArrayEquals(e.getValue().data().asFloat(), resumed.weights().get(e.getKey()).data().asFloat(),
                    e.getKey());
        }
        assertArrayEquals(Files.readAllBytes(straightDir.resolve(AdapterFiles.WEIGHTS)),
                Files.readAllBytes(splitDir.resolve(AdapterFiles.WEIGHTS)));
        assertEquals(Files.readString(straightDir.resolve(RouterStats.FILE)),
                Files.readString(splitDir.resolve(RouterStats.FILE)));
        assertEquals(config.withBaseModel(null).taskNames(),
                AdapterFiles.load(straightDir).config().taskNames(), "tasks are saved in the adapter config");
    }

    @Test
    void anExampleOfAnotherDatasetIsRefusedBeforeTraining() {
        AdapterConfig config = more(0.0, List.of("only_this_one"));
        LlamaAdapters adapters = LlamaAdapters.create(model().weights(), config, 1);
        MorException e = assertThrows(MorException.class, () -> fineTune(adapters, null, 1));
        assertTrue(e.getMessage().contains("example " + SAMPLE.get(0).id() + ": dataset '" + SAMPLE.get(0).dataset()
                + "' is not one of the adapter's tasks [only_this_one]"), e.getMessage());
    }
}
