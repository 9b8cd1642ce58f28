package dev.mor4j.spark;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterLayers;
import dev.mor4j.core.nn.FrozenLinear;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What a data-parallel step moves and costs, from an adapter's parameter count P (float32, {@code S = 4·P} bytes)
 * and the step's measured compute, for docs/distributed.md. With N partitions on N machines, n micro-batches a step
 * taking {@code t_mb} seconds each on one machine, and a network of {@code B} bytes/s at the driver:
 * <pre>
 *   bytes(N)  = N·S (the weights to every executor, at most) + N·S (one gradient sum back from each partition)
 *   t_step(N) = ⌈n / N⌉ · t_mb + bytes(N) / B
 * </pre>
 * Both transfers are bounded by the driver's link: Spark's torrent broadcast lets executors pass the weights'
 * blocks among themselves, so the first term is an upper bound; the sums all arrive at the driver (the exact
 * pairwise merge adds two partitions' sums only when they are siblings in the micro-batch tree).
 */
final class TrafficModel {

    /**
     * A LLaMA shape: decoder layers and the {@code [d_in, d_out]} of each projection.
     *
     * @param name        e.g. {@code LLaMA-2-7B}
     * @param layers      decoder layers
     * @param projections projection name → {@code {d_in, d_out}}
     */
    record Shape(String name, int layers, Map<String, int[]> projections) {

        /** LLaMA-2-7B: hidden 4096, MLP 11008, 32 heads, 32 key/value heads, 32 layers. */
        static Shape llama2_7b() {
            return of("LLaMA-2-7B", 32, 4096, 11008, 4096);
        }

        /** LLaMA-3-8B: hidden 4096, MLP 14336, 32 heads, 8 key/value heads of 128, 32 layers. */
        static Shape llama3_8b() {
            return of("LLaMA-3-8B", 32, 4096, 14336, 1024);
        }

        private static Shape of(String name, int layers, int hidden, int mlp, int kv) {
            Map<String, int[]> p = new LinkedHashMap<>();
            p.put("q_proj", new int[] {hidden, hidden});
            p.put("k_proj", new int[] {hidden, kv});
            p.put("v_proj", new int[] {hidden, kv});
            p.put("o_proj", new int[] {hidden, hidden});
            p.put("gate_proj", new int[] {hidden, mlp});
            p.put("up_proj", new int[] {hidden, mlp});
            p.put("down_proj", new int[] {mlp, hidden});
            return new Shape(name, layers, p);
        }
    }

    private TrafficModel() {
    }

    /**
     * The adapter's trainable parameters on every layer of {@code shape}, counted by the adapter layers themselves
     * (built on zero BF16 weights of each projection's shape, one layer at a time).
     */
    static long parameters(AdapterConfig config, Shape shape) {
        long perLayer = 0;
        for (String target : config.targetModules()) {
            int[] dims = shape.projections().get(target);
            if (dims == null) {
                throw new IllegalArgumentException(target + " is not a projection of " + shape.name());
            }
            INDArray weight = Nd4j.zeros(DataType.BFLOAT16, dims[1], dims[0]); // [d_out, d_in]
            FrozenLinear base = FrozenLinear.resident(target, weight, DataType.FLOAT);
            weight.close();
            perLayer += AdapterLayers.create(config, "m." + target, base).parameterCount();
            base.close();
        }
        return perLayer * shape.layers();
    }

    /** Bytes a step moves with {@code partitions} partitions on as many executors: weights out, sums back. */
    static long bytesPerStep(long parameters, int partitions) {
        return 2L * partitions * 4 * parameters;
    }

    /**
     * The modelled step time.
     *
     * @param microBatchSeconds t_mb, one micro-batch's forward and backward on one machine
     * @param microBatches      n, micro-batches per step
     * @param parameters        P, the adapter's trainable parameters
     * @param partitions        N, machines (one partition each)
     * @param bytesPerSecond    B, the driver's network bandwidth
     */
    static double stepSeconds(double microBatchSeconds, int microBatches, long parameters, int partitions,
            double bytesPerSecond) {
        int rounds = (microBatches + partitions - 1) / partitions;
        return rounds * microBatchSeconds + bytesPerStep(parameters, partitions) / bytesPerSecond;
    }

    /** The configurations of the docs' table: MoR N 8 r 8 and LoRA r 8 on gate/up/down, LoRA r 16 on all seven. */
    static Map<String, AdapterConfig> tableAdapters() {
        List<String> mlp = List.of("gate_proj", "up_proj", "down_proj");
        List<String> all = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
        Map<String, AdapterConfig> out = new LinkedHashMap<>();
        out.put("MoR N8 r8, gate/up/down", AdapterConfig.morDefaults());
        out.put("LoRA r8, gate/up/down", lora(8, mlp));
        out.put("LoRA r16, all 7 projections", lora(16, all));
        return out;
    }

    static AdapterConfig lora(int r, List<String> targets) {
        return AdapterConfig.lora().rank(r).alpha(2.0 * r).dropout(0.05).targetModules(targets).build();
    }
}
