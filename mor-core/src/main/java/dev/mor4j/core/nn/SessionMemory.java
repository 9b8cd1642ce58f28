package dev.mor4j.core.nn;

import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs SameDiff graphs in an execution session whose array cache is {@link SessionCache}: SameDiff M2.1's
 * cache with its order-flag, duplicate-id and kept-array faults corrected, so that from the second call on
 * a graph's intermediate arrays come from the cache, row-major, instead of from fresh memory. The session
 * itself is a {@link PlannedSession}, which works out the ops to run for a set of outputs once.
 *
 * <p>SameDiff executes a graph in a per-thread session. {@link #install(SameDiff)} puts one with the
 * corrected cache into the graph for the calling thread; {@link #output} installs it, runs the graph and
 * then returns to the cache what the session kept. Results are the same as SameDiff's own session gives.
 * Graphs run from other threads through {@code SameDiff.output} get SameDiff's default session (correct,
 * slower).
 */
public final class SessionMemory {

    private SessionMemory() {
    }

    /**
     * Installs the session for the calling thread, unless it has one already; a session SameDiff created
     * earlier (with its default cache) is replaced. Idempotent and cheap.
     */
    public static void install(SameDiff sd) {
        long thread = Thread.currentThread().getId();
        InferenceSession s = sd.getSessions().get(thread);
        if (s != null && s.getMmgr() instanceof SessionCache) {
            return;
        }
        InferenceSession session = new PlannedSession(sd);
        session.setMmgr(new SessionCache());
        sd.getSessions().put(thread, session);
    }

    /**
     * Installs in {@code other}, for the calling thread, a session that shares {@code owner}'s array cache
     * (installing {@code owner}'s first if needed). Graphs that run one after another on one thread, such as the
     * layers of a model run segment by segment, then reuse each other's released arrays instead of each keeping
     * a cache of its own.
     */
    public static void shareCache(SameDiff owner, SameDiff other) {
        install(owner);
        long thread = Thread.currentThread().getId();
        SessionCache cache = (SessionCache) owner.getSessions().get(thread).getMmgr();
        InferenceSession s = other.getSessions().get(thread);
        if (s != null && s.getMmgr() == cache) {
            return;
        }
        InferenceSession session = new PlannedSession(other);
        session.setMmgr(cache);
        other.getSessions().put(thread, session);
    }

    /** True when the calling thread's session of {@code sd} is one {@link #install} made. */
    public static boolean installed(SameDiff sd) {
        InferenceSession s = sd.getSessions().get(Thread.currentThread().getId());
        return s != null && s.getMmgr() instanceof SessionCache;
    }

    /**
     * {@code sd.output(placeholders, listeners, outputs)} in the session of {@link #install}, after which
     * every intermediate array the session kept goes back to its cache; the returned arrays are not reused.
     *
     * @param listeners extra listeners for this call (besides the graph's own); may be null
     */
    public static Map<String, INDArray> output(SameDiff sd, Map<String, INDArray> placeholders,
            List<Listener> listeners, String... outputs) {
        install(sd);
        SessionCache cache = (SessionCache) sd.getSessions().get(Thread.currentThread().getId()).getMmgr();
        cache.begin();
        Map<String, INDArray> out;
        try {
            out = sd.output(placeholders, listeners, outputs);
        } catch (RuntimeException e) {
            cache.end();
            throw e;
        }
        cache.reclaim(out.values());
        return out;
    }

    /** {@link #output(SameDiff, Map, List, String...)} without extra listeners. */
    public static Map<String, INDArray> output(SameDiff sd, Map<String, INDArray> placeholders, String... outputs) {
        return output(sd, placeholders, null, outputs);
    }
}
