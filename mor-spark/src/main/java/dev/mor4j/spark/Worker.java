package dev.mor4j.spark;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.train.MicroBatchGradients;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One training graph of a run on an executor ({@link MicroBatchGradients} over the executor's resident model, with
 * its own copy of the adapter weights) and the one thread that runs it. SameDiff keeps execution sessions and their
 * array caches per thread, so a graph always runs on the same thread, whichever Spark task thread asked for the
 * work.
 */
final class Worker {

    private final WorkerSpec spec;
    private final WorkerPool pool;
    private final ExecutorService thread;
    private MicroBatchGradients gradients; // built on the worker's thread, on its first job
    private Map<String, INDArray> weights; // the adapter arrays its graph reads
    private long loaded = -1; // the broadcast whose weights are in those arrays

    Worker(WorkerSpec spec, WorkerPool pool, int number) {
        this.spec = spec;
        this.pool = pool;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mor-spark-worker-" + number);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Runs {@code job} on this worker's thread and waits for it; the worker goes back to its pool when the job
     * ends, even if the waiting task is interrupted first.
     */
    <T> T run(Supplier<T> job) {
        CompletableFuture<T> f = CompletableFuture.supplyAsync(job, thread).whenComplete((r, e) -> pool.giveBack(this));
        try {
            return f.get(); // completes once the worker is back in the pool
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MorException("interrupted while a worker computed micro-batches", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new MorException("a worker failed: " + c, c);
        }
    }

    /**
     * On the worker's thread: builds the graph on first use and puts broadcast {@code version}'s weights into the
     * adapter arrays unless they hold them already.
     */
    MicroBatchGradients load(long version, AdapterSnapshot snapshot) {
        if (gradients == null) {
            LlamaModel model = ResidentModels.model(spec.modelDir());
            weights = new LinkedHashMap<>();
            spec.shapeMap().forEach((k, shape) -> weights.put(k, Nd4j.create(DataType.FLOAT, shape, 'c')));
            LlamaAdapters adapters = LlamaAdapters.of(model.weights(), spec.adapterConfiguration(), weights,
                    "the adapter weights the Spark driver sent", spec.morForm());
            gradients = new MicroBatchGradients(model.weights(), adapters, spec.seed(), spec.reduction(),
                    spec.recompute());
        }
        if (loaded != version) {
            snapshot.assignTo(weights, spec.names());
            loaded = version;
        }
        return gradients;
    }

    void close() {
        thread.shutdownNow();
    }
}
