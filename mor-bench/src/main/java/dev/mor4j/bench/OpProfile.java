package dev.mor4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * A SameDiff listener that times every op execution (from just before the op runs to just after), to find
 * where a forward or backward pass spends its time. Attach with {@code sd.setListeners(profile)}; the
 * gradient function inherits the graph's listeners.
 */
public final class OpProfile extends BaseListener {

    /** One op's accumulated time. */
    public static final class Entry {
        public final String name;
        public final String type;
        public String outShapes = "";
        public long nanos;
        public int calls;

        Entry(String name, String type) {
            this.name = name;
            this.type = type;
        }
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private long start;

    @Override
    public boolean isActive(Operation operation) {
        return true;
    }

    @Override
    public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext opContext) {
        start = System.nanoTime();
    }

    @Override
    public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext opContext,
            INDArray[] outputs) {
        long dt = System.nanoTime() - start;
        Entry e = entries.computeIfAbsent(op.getName(), n -> new Entry(n, op.getOp().opName()));
        e.nanos += dt;
        e.calls++;
        if (outputs != null && e.outShapes.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (INDArray o : outputs) {
                sb.append(o == null ? "null" : Arrays.toString(o.shape()));
            }
            e.outShapes = sb.toString();
        }
    }

    /** Forgets everything recorded so far. */
    public void reset() {
        entries.clear();
    }

    /** Entries, most expensive first. */
    public List<Entry> sorted() {
        List<Entry> list = new ArrayList<>(entries.values());
        list.sort((a, b) -> Long.compare(b.nanos, a.nanos));
        return list;
    }

    /** Total milliseconds inside ops. */
    public double totalMillis() {
        return entries.values().stream().mapToLong(e -> e.nanos).sum() / 1e6;
    }

    /** Total milliseconds by op type, most expensive first, one a line. */
    public String byType(int top) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (Entry e : entries.values()) {
            long[] v = m.computeIfAbsent(e.type, k -> new long[2]);
            v[0] += e.nanos;
            v[1] += e.calls;
        }
        List<Map.Entry<String, long[]>> list = new ArrayList<>(m.entrySet());
        list.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(top, list.size()); i++) {
            Map.Entry<String, long[]> e = list.get(i);
            sb.append(String.format("%10.2f ms %5d× %s%n", e.getValue()[0] / 1e6, e.getValue()[1], e.getKey()));
        }
        return sb.toString();
    }

    /** The {@code top} most expensive ops, one a line: total ms, calls, type, name, output shapes. */
    public String table(int top) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("ops total %.1f ms%n", totalMillis()));
        int i = 0;
        for (Entry e : sorted()) {
            if (i++ >= top) {
                break;
            }
            sb.append(String.format("%10.2f ms %4d× %-22s %-60s %s%n", e.nanos / 1e6, e.calls, e.type, e.name,
                    e.outShapes));
        }
        return sb.toString();
    }
}
