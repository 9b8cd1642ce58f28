package dev.mor4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MemoryPeak;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.model.LlamaWeights;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures fine-tuning steps on a random LLaMA model ({@link TrainingStep}) in a process of its own, so that
 * the peak memory belongs to that one configuration: forward (loss only) and whole optimizer steps run
 * interleaved, their ratio taken per round, together with the large GEMMs of a forward pass and of a step run
 * bare ({@link GemmReplay}), so that each pass is also measured against what the machine's GEMM speed of that
 * minute allows. The child prints one line {@code RESULT <json>}.
 *
 * <p>Child arguments: {@code variant layers tokens warmup rounds [profile|samediff] [prompt=N]}; with
 * {@code profile} it then runs one more forward and step with {@link OpProfile} attached and prints where the time
 * went, to stderr; with {@code samediff} the graph runs as SameDiff runs it by itself (see {@link TrainingStep});
 * {@code prompt=N} makes the sequence's first N tokens an unlabelled prompt (chat data: only the answer is
 * labelled), so the label-only head runs on the other {@code tokens − N} positions.
 */
public final class TrainingRun {

    /** JVM options of the child: heap, and JavaCPP's limits (SameDiff caches up to a quarter of maxbytes). */
    public static final List<String> JVM_OPTIONS = List.of("-Xmx3g", "-Dorg.bytedeco.javacpp.maxbytes=7G",
            "-Dorg.bytedeco.javacpp.maxphysicalbytes=12G");

    /** The smallest product the GEMM yardstick replays: the projections and lm_head, not attention or adapters. */
    static final double MIN_REPLAY_GFLOP = 1.0;

    private TrainingRun() {
    }

    public static void main(String[] args) {
        Variant variant = Variant.valueOf(args[0]);
        int layers = Integer.parseInt(args[1]);
        int tokens = Integer.parseInt(args[2]);
        int warmup = Integer.parseInt(args[3]);
        int rounds = Integer.parseInt(args[4]);
        List<String> extra = List.of(args).subList(5, args.length);
        boolean profile = extra.contains("profile");
        boolean sameDiffDefaults = extra.contains("samediff");
        int prompt = extra.stream().filter(a -> a.startsWith("prompt=")).mapToInt(a -> Integer.parseInt(a.substring(7)))
                .findFirst().orElse(0);
        ObjectNode result = measure(variant, layers, tokens, prompt, warmup, rounds, profile, sameDiffDefaults);
        System.out.println("RESULT " + result);
        System.exit(0);
    }

    /** Runs the measurement in this process. */
    public static ObjectNode measure(Variant variant, int layers, int tokens, int promptTokens, int warmup, int rounds,
            boolean profile, boolean sameDiffDefaults) {
        LlamaConfig config = RandomLlama.llama2_7bWidth(layers);
        long t0 = System.nanoTime();
        LlamaWeights weights = RandomLlama.weights(config, 42);
        double buildSeconds = (System.nanoTime() - t0) / 1e9;
        System.gc();
        TrainingStep step = new TrainingStep(weights, variant.config(List.of("gate_proj", "up_proj", "down_proj")),
                tokens, promptTokens, 42, sameDiffDefaults);
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        try (MemoryPeak peak = new MemoryPeak()) {
            Interleaved timing = new Interleaved().add("forward", step::forward).add("gradients", step::gradients)
                    .add("step", step::step);
            // The same large GEMMs as a forward pass and a step, run bare in the same rounds: the yardstick of
            // what this minute's GEMM speed allows, for the library's path. SameDiff's own path allocates about
            // 10 GB afresh per step and already holds 13 GB, next to JavaCPP's 12 GB physical-memory limit.
            GemmReplay forwardGemms = null;
            GemmReplay stepGemms = null;
            if (!sameDiffDefaults) {
                forwardGemms = GemmReplay.record(step.graph().sd(), step::forward, MIN_REPLAY_GFLOP);
                stepGemms = GemmReplay.record(step.graph().sd(), step::step, MIN_REPLAY_GFLOP);
                timing.add("forward_gemms", forwardGemms::run).add("step_gemms", stepGemms::run);
            }
            timing.run(warmup, rounds);
            o.put("variant", variant.name());
            o.put("path", sameDiffDefaults ? "samediff-defaults" : "library");
            o.put("layers", layers);
            o.put("tokens", tokens);
            o.put("prompt_tokens", promptTokens);
            o.put("trainable_parameters", step.trainableParameters());
            o.put("weights_build_seconds", buildSeconds);
            o.set("forward_ms", stats(timing.stats("forward")));
            o.set("gradients_ms", stats(timing.stats("gradients")));
            o.set("step_ms", stats(timing.stats("step")));
            o.set("step_over_forward", stats(timing.ratio("step", "forward")));
            o.set("gradients_over_forward", stats(timing.ratio("gradients", "forward")));
            o.put("tokens_per_second", tokens / (timing.stats("step").median() / 1e3));
            if (stepGemms != null) {
                putYardstick(o, timing, forwardGemms, stepGemms);
            }
            o.put("peak_physical_bytes", peak.physicalBytes());
            o.put("peak_javacpp_bytes", peak.javacppBytes());
            o.put("peak_heap_bytes", peak.heapBytes());
        }
        if (profile) {
            OpProfile p = new OpProfile();
            step.graph().sd().setListeners(p);
            step.forward();
            System.err.printf("forward (%s):%n%s%s", variant, p.byType(25), p.table(40));
            p.reset();
            step.step();
            System.err.printf("step (%s):%n%s%s", variant, p.byType(40), p.table(80));
        }
        return o;
    }

    /** The GEMM yardstick's results: the replays' work and times, and each pass over its own GEMMs. */
    private static void putYardstick(ObjectNode o, Interleaved timing, GemmReplay forwardGemms, GemmReplay stepGemms) {
        o.put("forward_gemms_gflop", forwardGemms.gflop());
        o.put("step_gemms_gflop", stepGemms.gflop());
        o.set("forward_gemms_ms", stats(timing.stats("forward_gemms")));
        o.set("step_gemms_ms", stats(timing.stats("step_gemms")));
        o.set("forward_over_its_gemms", stats(timing.ratio("forward", "forward_gemms")));
        o.set("step_over_its_gemms", stats(timing.ratio("step", "step_gemms")));
        o.put("step_gemms", stepGemms.describe());
        o.put("replay_gflops", stepGemms.gflop() / (timing.stats("step_gemms").median() / 1e3));
    }

    static ObjectNode stats(Interleaved.Stats s) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("median", s.median());
        o.put("p25", s.p25());
        o.put("p75", s.p75());
        o.put("min", s.min());
        o.put("max", s.max());
        o.put("n", s.n());
        return o;
    }

    /** Runs {@link #main} in a child JVM with {@link #JVM_OPTIONS} and returns its result. */
    public static ObjectNode inChild(Variant variant, int layers, int tokens, int warmup, int rounds) {
        return inChild(variant, layers, tokens, warmup, rounds, false);
    }

    /** As {@link #inChild(Variant, int, int, int, int)}; {@code sameDiffDefaults} as in {@link TrainingStep}. */
    public static ObjectNode inChild(Variant variant, int layers, int tokens, int warmup, int rounds,
            boolean sameDiffDefaults) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(JVM_OPTIONS);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(TrainingRun.class.getName());
        cmd.add(variant.name());
        cmd.add(String.valueOf(layers));
        cmd.add(String.valueOf(tokens));
        cmd.add(String.valueOf(warmup));
        cmd.add(String.valueOf(rounds));
        if (sameDiffDefaults) {
            cmd.add("samediff");
        }
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String result = null;
            StringBuilder log = new StringBuilder();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith("RESULT ")) {
                        result = line.substring(7);
                    } else {
                        log.append(line).append('\n');
                    }
                }
            }
            int rc = p.waitFor();
            if (rc != 0 || result == null) {
                throw new IllegalStateException("training run " + variant + " failed (exit " + rc + "):\n" + log);
            }
            return (ObjectNode) new ObjectMapper().readTree(result);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run the training measurement: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
