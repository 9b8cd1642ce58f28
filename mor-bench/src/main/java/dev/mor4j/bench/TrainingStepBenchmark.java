package dev.mor4j.bench;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.llama.config.LlamaConfig;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

/**
 * Fine-tuning a LLaMA-shaped model with random weights: 2 decoder layers at LLaMA-2-7B width (hidden 4096,
 * intermediate 11008, 32 heads, vocabulary 32000), one sequence of 512 tokens, adapters on gate/up/down.
 * {@code forward} computes the loss; {@code step} is a whole optimizer step (forward, backward, clipping,
 * AdamW on the adapters). Tokens per second are {@code 512 / step time}.
 * Run: {@code java -jar mor-bench/target/benchmarks.jar TrainingStepBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "-Dorg.bytedeco.javacpp.maxbytes=7G",
        "-Dorg.bytedeco.javacpp.maxphysicalbytes=12G"})
public class TrainingStepBenchmark {

    /** Which adapter: LoRA r8, MoR N8 r8 (default form) or MoE-LoRA with 2 experts. */
    @Param({"LORA_R8", "MOR_EXPANDED", "MOELORA_2"})
    public Variant variant;

    @Param({"2"})
    public int layers;

    @Param({"512"})
    public int tokens;

    private TrainingStep step;

    @Setup
    public void setup() {
        LlamaConfig config = RandomLlama.llama2_7bWidth(layers);
        AdapterConfig adapter = variant.config(List.of("gate_proj", "up_proj", "down_proj"));
        step = new TrainingStep(RandomLlama.weights(config, 42), adapter, tokens, 42);
    }

    @Benchmark
    public double forward() {
        return step.forward();
    }

    @Benchmark
    public long step() {
        step.step();
        return step.trainer().globalStep();
    }
}
