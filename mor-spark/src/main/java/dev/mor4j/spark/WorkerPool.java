package dev.mor4j.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingDeque;

/**
 * The workers of one run in one executor JVM: as many as tasks of the run ever ran here at once (the executor's
 * cores), each with its own training graph on the shared frozen model. A task borrows an idle worker, or makes a
 * new one, and the worker comes back when its computation ends.
 */
final class WorkerPool {

    private final WorkerSpec spec;
    private final LinkedBlockingDeque<Worker> idle = new LinkedBlockingDeque<>();
    private final List<Worker> all = new ArrayList<>();

    WorkerPool(WorkerSpec spec) {
        this.spec = spec;
    }

    String runId() {
        return spec.runId();
    }

    /** An idle worker, or a new one. */
    synchronized Worker borrow() {
        Worker w = idle.pollFirst();
        if (w == null) {
            w = new Worker(spec, this, all.size());
            all.add(w);
        }
        return w;
    }

    /** Called by a worker when its computation has ended. */
    void giveBack(Worker w) {
        idle.offerFirst(w);
    }

    /** Stops every worker's thread (the run is over). */
    synchronized void close() {
        all.forEach(Worker::close);
        all.clear();
        idle.clear();
    }
}
