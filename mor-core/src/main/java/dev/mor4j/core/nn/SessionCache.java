package dev.mor4j.core.nn;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.BaseNDArray;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SameDiff M2.1's array cache with three of its faults corrected; the session of {@link SessionMemory} uses it.
 *
 * <ol>
 *   <li><b>Order flags.</b> A fresh allocation is always row-major ({@code 'c'}), whatever order the op's
 *       shape function asked for, but a cached array handed out again gets the requested order flag while
 *       keeping its row-major strides. {@code xw_plus_b} asks for {@code 'f'}, so from the second call on
 *       every frozen projection's output was a row-major array flagged column-major, and every elementwise
 *       op reading it left its contiguous fast path (adding a {@code [512, 11008]} adapter delta: 30–40 ms
 *       instead of 3). Here every request is made row-major, as a fresh allocation is.</li>
 *   <li><b>Duplicate array ids.</b> A cached array handed out again gets a new id from ND4J's counter
 *       ({@code incrementAndGet}), but new arrays take theirs with {@code getAndIncrement}: the next new
 *       array gets the same id. The session tracks released arrays by id, so once the reused array was
 *       released the new one never was: it stayed out of the cache, was dropped to the garbage collector,
 *       and the next call allocated it again (about 110 arrays, 217 MB, per training step of a 2-layer
 *       LLaMA-2-7B-width model, each first touch a page fault). Here the counter is advanced past a reused
 *       array's id.</li>
 *   <li><b>Arrays the session keeps.</b> The session releases an intermediate array when every op that
 *       reads it has run. An array also read by an op outside the executed subgraph (a gradient function
 *       holds the whole forward graph and more) is never released. {@link #reclaim} releases, after a call,
 *       every array handed out since {@link #begin} that the session kept, except the call's results and
 *       anything sharing a buffer with them or with a cached array.</li>
 * </ol>
 *
 * <p>Values are unchanged by all three: arrays are reused only when nothing reads them any more.
 */
final class SessionCache extends ArrayCacheMemoryMgr {

    /** ND4J's counter of array ids ({@code BaseNDArray.arrayCounter}). */
    private static final AtomicLong ARRAY_IDS = arrayIds();

    /** Arrays handed out since {@link #begin()} and not released since, while {@link #tracking}. */
    private final Set<INDArray> issued = Collections.newSetFromMap(new IdentityHashMap<>());

    /** Between {@link #begin()} and {@link #reclaim} or {@link #end()}: outside, nothing is recorded. */
    private boolean tracking;

    /** Allocations since {@link #begin()} that no cached array could serve. */
    private int fresh;

    private static AtomicLong arrayIds() {
        try {
            Field f = BaseNDArray.class.getDeclaredField("arrayCounter");
            f.setAccessible(true);
            return (AtomicLong) f.get(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("ND4J's BaseNDArray.arrayCounter is not readable: this class is "
                    + "written for ND4J 1.0.0-M2.1", e);
        }
    }

    @Override
    public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
        if (!descriptor.isEmpty() && descriptor.getOrder() != 'c') {
            descriptor = LongShapeDescriptor.fromShape(descriptor.getShape(), descriptor.dataType());
        }
        if (!descriptor.isEmpty() && !cached(descriptor)) {
            fresh++;
        }
        INDArray array = super.allocate(detached, descriptor);
        if (array.getId() == ARRAY_IDS.get()) {
            ARRAY_IDS.getAndIncrement(); // a reused array's new id: the next new array would get it too
        }
        if (tracking && !array.isEmpty()) {
            issued.add(array);
        }
        return array;
    }

    /** Whether the cache holds an array for this request, as {@link ArrayCacheMemoryMgr} looks it up. */
    private boolean cached(LongShapeDescriptor d) {
        List<INDArray> same = getArrays().get(d.dataType(), Arrays.toString(d.getShape()));
        return same != null && !same.isEmpty();
    }

    @Override
    public void release(INDArray array) {
        issued.remove(array);
        super.release(array);
    }

    /** Starts a call: from now on the arrays handed out are recorded for {@link #reclaim}. */
    void begin() {
        issued.clear();
        tracking = true;
        fresh = 0;
    }

    /** Ends a call without reclaiming anything (the call failed): forgets the recorded arrays. */
    void end() {
        issued.clear();
        tracking = false;
    }

    /** Arrays recorded for {@link #reclaim} (none outside a call of {@link SessionMemory#output}). */
    int recordedArrays() {
        return issued.size();
    }

    /** Allocations since {@link #begin()} served by new memory rather than by a cached array. */
    int freshAllocations() {
        return fresh;
    }

    /**
     * Releases every array handed out since {@link #begin()} and still held: not closed, not a view, not
     * sharing its buffer with {@code keep}, with a cached array or with another array released here, and
     * used by nothing else.
     *
     * @param keep the call's results, which the caller goes on reading
     * @return bytes returned to the cache
     */
    long reclaim(Collection<INDArray> keep) {
        Set<Long> taken = new HashSet<>(); // buffer addresses that must not be handed out (again)
        for (INDArray k : keep) {
            if (k != null && !k.isEmpty() && !k.wasClosed()) {
                for (DataBuffer b = k.data(); b != null; b = b.originalDataBuffer()) {
                    taken.add(b.address()); // the result's buffer, and the one it is a view of, if any
                    if (b.underlyingDataBuffer() != null) {
                        taken.add(b.underlyingDataBuffer().address());
                    }
                    if (b.originalDataBuffer() == b) {
                        break;
                    }
                }
            }
        }
        for (List<INDArray> cached : getArrays().values()) {
            for (INDArray c : cached) {
                taken.add(c.data().address());
            }
        }
        long bytes = 0;
        for (INDArray a : new ArrayList<>(issued)) {
            if (a.wasClosed() || a.isView() || a.offset() != 0 || a.length() != a.data().length()
                    || !taken.add(a.data().address()) || Nd4j.getExecutioner().useCount(a.data()) > 1) {
                continue;
            }
            bytes += a.length() * a.dataType().width();
            release(a);
        }
        end();
        return bytes;
    }
}
