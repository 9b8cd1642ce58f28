package dev.mor4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.train.FineTuneOptions;
import dev.mor4j.llama.train.FineTuneResult;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.Recompute;
import dev.mor4j.llama.train.StepBackend;
import dev.mor4j.llama.train.TaskIndex;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Executors build a micro-batch's feeds with the single process's code: a MoRE adapter (per-example task ids)
 * computed layer by layer with recomputation trains on Spark to the single process's weights, bit for bit.
 */
class SparkMoreTest {

    private static FineTuneResult train(Map<String, float[]> into, StepBackend backend) {
        List<String> tasks = TaskIndex.fromExamples(SparkFixtures.sample()).names();
        AdapterConfig d = AdapterConfig.moreDefaults(tasks);
        AdapterConfig more = d.toBuilder().dropout(0.1).rankExperts(1, 2, 4, 8).taskLossWeight(0.1)
                .taskTemperature(0.05).build();
        LlamaAdapters adapters = LlamaAdapters.create(SparkFixtures.model().weights(), more, 3);
        TrainConfig cfg = TrainConfig.builder().learningRate(1e-2).maxSteps(2).gradientAccumulationSteps(2).seed(9)
                .warmupRatio(0).saveSteps(0).build();
        LlamaFineTune ft = LlamaFineTune.builder(SparkFixtures.model(), adapters, SparkFixtures.sample())
                .trainConfig(cfg).options(FineTuneOptions.defaults().withBatchSize(4)).recompute(Recompute.ON)
                .messages(m -> { }).backend(backend).build();
        assertTrue(ft.recomputing());
        FineTuneResult r = ft.train();
        into.putAll(SparkFixtures.values(adapters.weights()));
        return r;
    }

    @Test
    void moreWithRecomputationOnTwoPartitionsIsTheSingleProcessRun() {
        Map<String, float[]> here = new java.util.LinkedHashMap<>();
        Map<String, float[]> spark = new java.util.LinkedHashMap<>();
        FineTuneResult a = train(here, null);
        FineTuneResult b;
        try (SparkBackend backend = new SparkBackend("local[2]", 2)) {
            b = train(spark, backend);
        }
        for (int i = 0; i < 2; i++) {
            assertEquals(a.steps().get(i).loss(), b.steps().get(i).loss(), 0.0, "loss of step " + (i + 1));
        }
        assertEquals(here.keySet(), spark.keySet());
        for (String k : here.keySet()) {
            assertArrayEquals(here.get(k), spark.get(k), k);
        }
    }
}
