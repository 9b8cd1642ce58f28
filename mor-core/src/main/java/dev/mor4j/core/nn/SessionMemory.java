package dev.mor4j.core.nn;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * Gives a SameDiff graph an execution session whose array cache hands out arrays whose order flag matches
 * their strides.
 *
 * <p>SameDiff M2.1 executes a graph in a per-thread session that allocates op outputs through an
 * {@link ArrayCacheMemoryMgr}. A fresh allocation is always row-major ({@code 'c'}), whatever order the op's
 * shape function asked for. A cached array, reused on later calls, instead gets its order flag overwritten
 * with the requested order while keeping its row-major strides. {@code xw_plus_b}'s shape function asks for
 * {@code 'f'}, so from the second call on every frozen projection's output is a row-major array flagged
 * column-major. The values are right (ops index by strides), but every elementwise op that reads such an
 * array together with a correctly flagged one leaves its contiguous fast path: adding a {@code [512, 11008]}
 * adapter delta took 30–40 ms instead of 3 ms, and a 2-layer LLaMA-2-7B-width forward pass lost about a
 * quarter of a second to it.
 *
 * <p>{@link #install(SameDiff)} puts a session for the calling thread into the graph whose cache allocates
 * exactly as a fresh allocation does (row-major, order flag {@code 'c'}). Results are unchanged; only the
 * first call's layout is kept on every later call. Graphs run from other threads get SameDiff's default
 * session (correct, slower).
 */
public final class SessionMemory {

    private SessionMemory() {
    }

    /** The cache: SameDiff's, with every request made row-major as a fresh allocation is. */
    static final class RowMajorCache extends ArrayCacheMemoryMgr {

        @Override
        public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
            if (!descriptor.isEmpty() && descriptor.getOrder() != 'c') {
                descriptor = LongShapeDescriptor.fromShape(descriptor.getShape(), descriptor.dataType());
            }
            return super.allocate(detached, descriptor);
        }
    }

    /**
     * Installs the session for the calling thread, unless it has one already; a session SameDiff created
     * earlier (with its default cache) is replaced. Idempotent and cheap.
     */
    public static void install(SameDiff sd) {
        long thread = Thread.currentThread().getId();
        InferenceSession s = sd.getSessions().get(thread);
        if (s != null && s.getMmgr() instanceof RowMajorCache) {
            return;
        }
        InferenceSession session = new InferenceSession(sd);
        session.setMmgr(new RowMajorCache());
        sd.getSessions().put(thread, session);
    }

    /** True when the calling thread's session of {@code sd} is one {@link #install} made. */
    public static boolean installed(SameDiff sd) {
        InferenceSession s = sd.getSessions().get(Thread.currentThread().getId());
        return s != null && s.getMmgr() instanceof RowMajorCache;
    }
}
