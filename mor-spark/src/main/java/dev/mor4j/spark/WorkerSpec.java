package dev.mor4j.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.MorForm;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.train.StepBackend;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What an executor needs to compute the micro-batches of a run, sent with every task (a few kilobytes): where the
 * frozen model is, the adapter's configuration and weight shapes, and how the driver's run computes a micro-batch
 * (seed of the dropout masks, loss reduction, recomputation).
 *
 * @param runId          identifies the run: an executor keeps one set of workers per run
 * @param modelDir       the model directory, at a path every executor can read
 * @param adapterConfig  the adapter's {@code adapter_config.json} content
 * @param morForm        how MoR computes its sum over experts (the driver's choice; the same on every executor)
 * @param names          the adapter weights' keys, in the adapters' order
 * @param shapes         the weights' shapes, in the same order
 * @param seed           the run's seed (dropout masks)
 * @param reduction      how a micro-batch's loss reduces over its tokens
 * @param recompute      compute layer by layer with recomputation
 * @param fault          a fault to inject, or null (tests)
 */
record WorkerSpec(String runId, String modelDir, String adapterConfig, MorForm morForm, List<String> names,
        List<long[]> shapes, long seed, LlamaFeeds.Reduction reduction, boolean recompute, Fault fault)
        implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A test hook: the first attempt of one partition of one step fails after its first micro-batch, as a lost
     * executor or a failing node would; Spark runs the task again.
     *
     * @param step      the 0-based optimizer step
     * @param partition the partition
     */
    record Fault(long step, int partition) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** The spec of a run the driver is starting. */
    static WorkerSpec of(StepBackend.Run run, Fault fault) {
        List<String> names = new ArrayList<>(run.adapters().weights().keySet());
        List<long[]> shapes = new ArrayList<>();
        names.forEach(k -> shapes.add(run.adapters().weights().get(k).shape()));
        String config;
        try {
            config = JSON.writeValueAsString(run.adapters().config());
        } catch (JsonProcessingException e) {
            throw new MorException("the adapter config cannot be written as JSON: " + e.getMessage(), e);
        }
        return new WorkerSpec(UUID.randomUUID().toString(), run.model().directory().toAbsolutePath().normalize()
                .toString(), config, run.adapters().morForm(), names, shapes, run.config().seed(),
                run.options().lossReduction(), run.recompute(), fault);
    }

    /** The adapter configuration. */
    AdapterConfig adapterConfiguration() {
        try {
            return JSON.readValue(adapterConfig, AdapterConfig.class);
        } catch (JsonProcessingException e) {
            throw new MorException("the adapter config sent by the driver cannot be read: " + e.getMessage(), e);
        }
    }

    /** The weights' shapes by key, in the adapters' order. */
    Map<String, long[]> shapeMap() {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            out.put(names.get(i), shapes.get(i));
        }
        return out;
    }
}
