package dev.mor4j.bench;

import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import java.util.Map;

/**
 * One adapted projection at LLaMA-2-7B FFN shapes, float32: the frozen weight alone and with each adapter
 * ({@link Variant}), forward ({@code y}) and forward+backward (gradients of every adapter weight and of the
 * input). Run: {@code java -jar mor-bench/target/benchmarks.jar ProjectionBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dorg.bytedeco.javacpp.maxbytes=8G",
        "-Dorg.bytedeco.javacpp.maxphysicalbytes=12G"})
public class ProjectionBenchmark {

    /** {@code d_in x d_out}: up/gate ({@code 4096x11008}) and down ({@code 11008x4096}). */
    @Param({"4096x11008", "11008x4096"})
    public String shape;

    /** Tokens. */
    @Param({"256", "1024"})
    public int tokens;

    @Param({"BASE", "LORA_R8", "LORA_R64", "MOR_STACKED", "MOR_EXPANDED", "MOR_LOOP", "MOELORA_2", "MORE_R8"})
    public Variant variant;

    private ProjectionGraph graph;

    @Setup
    public void setup() {
        String[] dims = shape.split("x");
        graph = new ProjectionGraph(variant, Integer.parseInt(dims[0]), Integer.parseInt(dims[1]), tokens, 42);
    }

    /** {@code y [T, d_out]}. */
    @Benchmark
    public INDArray forward() {
        return graph.forward();
    }

    /** Gradients of {@code sum(y)} for the adapter weights and {@code x}. */
    @Benchmark
    public Map<String, INDArray> forwardBackward() {
        return graph.forwardBackward();
    }
}
