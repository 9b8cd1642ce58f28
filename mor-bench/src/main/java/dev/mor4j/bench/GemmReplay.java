package dev.mor4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The large matrix products of one pass through a graph, recorded while the pass runs them and replayed straight
 * through {@code Nd4j.gemm}: what the same GEMMs cost with nothing else around them, measured in the same minute
 * as the pass (a shared machine's GEMM speed drifts by a fifth from minute to minute).
 *
 * <p>Recorded are the two-dimensional {@code matmul} and {@code xw_plus_b} executions of at least
 * {@code minGflop}; the attention's batched products and the adapters' small ones are left out, and
 * {@code xw_plus_b}'s bias pass is not replayed. The replay multiplies the graph's own constants (the frozen
 * weights) where the pass did, and arrays of the same shapes filled once with random values where it multiplied
 * activations or gradients; each product writes into a preallocated output.
 */
public final class GemmReplay {

    /** One product {@code c = op(a)·op(b)}. */
    private record Product(INDArray a, INDArray b, INDArray c, boolean transA, boolean transB, double gflop) {
    }

    private final List<Product> products;

    private GemmReplay(List<Product> products) {
        this.products = products;
    }

    /**
     * Runs {@code pass} once on {@code sd} with a recording listener (the graph's own listeners are restored
     * afterwards) and returns its products of at least {@code minGflop}.
     *
     * @throws IllegalStateException if the pass ran no such product
     */
    public static GemmReplay record(SameDiff sd, Runnable pass, double minGflop) {
        Recorder recorder = new Recorder(minGflop);
        List<Listener> previous = new ArrayList<>(sd.getListeners());
        sd.setListeners(recorder);
        try {
            pass.run();
        } finally {
            sd.setListeners(previous.toArray(new Listener[0]));
        }
        if (recorder.products.isEmpty()) {
            throw new IllegalStateException("the pass ran no matrix product of at least " + minGflop + " GFLOP");
        }
        return new GemmReplay(List.copyOf(recorder.products));
    }

    /** Runs every recorded product once, in the pass's order. */
    public void run() {
        for (Product p : products) {
            Nd4j.gemm(p.a(), p.b(), p.c(), p.transA(), p.transB(), 1.0, 0.0);
        }
    }

    /** How many products a replay runs. */
    public int size() {
        return products.size();
    }

    /** The floating-point work of one replay, in GFLOP. */
    public double gflop() {
        return products.stream().mapToDouble(Product::gflop).sum();
    }

    /** One line per distinct product shape: {@code count× [m,k]·[k,n]}. */
    public String describe() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Product p : products) {
            long m = p.c().size(0);
            long n = p.c().size(1);
            long k = p.transA() ? p.a().size(0) : p.a().size(1);
            counts.merge("[" + m + "," + k + "]·[" + k + "," + n + "]" + (p.transA() ? " Aᵀ" : "")
                    + (p.transB() ? " Bᵀ" : ""), 1, Integer::sum);
        }
        StringBuilder sb = new StringBuilder();
        counts.forEach((shape, count) -> sb.append(count).append("× ").append(shape).append('\n'));
        return sb.toString();
    }

    /** Collects the products of one pass. */
    private static final class Recorder extends BaseListener {

        private final double minGflop;
        private final List<Product> products = new ArrayList<>();
        private final Map<String, INDArray> scratch = new HashMap<>(); // one array per shape, for non-constants

        Recorder(double minGflop) {
            this.minGflop = minGflop;
        }

        @Override
        public boolean isActive(Operation operation) {
            return true;
        }

        @Override
        public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx,
                INDArray[] outputs) {
            String type = op.getOp().opName();
            if (!type.equals("matmul") && !type.equals("xw_plus_b") || ctx == null || outputs == null) {
                return;
            }
            List<INDArray> in = ctx.getInputArrays();
            INDArray a = in.get(0);
            INDArray b = in.get(1);
            INDArray c = outputs[0];
            if (a.rank() != 2 || b.rank() != 2 || c.rank() != 2) {
                return;
            }
            List<Long> iArgs = ctx.getIArguments();
            boolean transA = type.equals("matmul") && iArgs.size() > 0 && iArgs.get(0) != 0;
            boolean transB = type.equals("matmul") && iArgs.size() > 1 && iArgs.get(1) != 0;
            boolean transC = type.equals("matmul") && iArgs.size() > 2 && iArgs.get(2) != 0;
            long m = transA ? a.size(1) : a.size(0);
            long k = transA ? a.size(0) : a.size(1);
            long kb = transB ? b.size(1) : b.size(0);
            long n = transB ? b.size(0) : b.size(1);
            if (transC || k != kb || c.size(0) != m || c.size(1) != n) {
                throw new IllegalStateException(op.getName() + ": cannot read its product from inputs "
                        + Arrays.toString(a.shape()) + ", " + Arrays.toString(b.shape()) + ", output "
                        + Arrays.toString(c.shape()) + ", arguments " + iArgs);
            }
            double gflop = 2.0 * m * k * n / 1e9;
            if (gflop < minGflop) {
                return;
            }
            List<String> names = op.getInputsToOp();
            products.add(new Product(operand(sd, names.get(0), a), operand(sd, names.get(1), b),
                    scratch("out", c), transA, transB, gflop));
        }

        /** The graph's own array for a constant; otherwise a random array of the same shape. */
        private INDArray operand(SameDiff sd, String name, INDArray array) {
            if (sd.hasVariable(name) && sd.getVariable(name).getVariableType() == VariableType.CONSTANT) {
                return array;
            }
            return scratch("in", array);
        }

        private INDArray scratch(String role, INDArray like) {
            String key = role + Arrays.toString(like.shape()) + like.dataType();
            return scratch.computeIfAbsent(key, s -> Nd4j.rand(like.dataType(), like.shape()).subi(0.5));
        }
    }
}
