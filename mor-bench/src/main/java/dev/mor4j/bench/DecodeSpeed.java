package dev.mor4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.llama.generate.GenerationConfig;
import dev.mor4j.llama.generate.GenerationResult;
import dev.mor4j.llama.generate.Generator;
import dev.mor4j.llama.generate.KvCacheForward;
import dev.mor4j.llama.generate.KvCacheStepper;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.model.LlamaWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Generation speed with the key/value cache, as {@code ./mor generate} runs it: the prompt's pass (prefill) and the
 * time per further token (decode), greedy, without stopping at EOS so that every round decodes the same number of
 * tokens.
 *
 * <p>Models ({@code --models}, comma-separated): {@code tiny}, the bundled 2-layer model
 * ({@code testdata/models/tiny-llama-f32}, hidden 32, vocabulary 32000); {@code 7b-width}, 2 random decoder layers at
 * LLaMA-2-7B width ({@link RandomLlama#llama2_7bWidth}, about 2.7 GB of float32 weights). The prompt is BOS followed
 * by {@code --prompt − 1} random ids (seeded). Each model runs {@code --warmup} untimed generations, then
 * {@code --rounds} timed ones; the median, lowest and highest of each are reported. Only the generator's public API
 * is used, so the same class measures any version of the decode step.
 *
 * <p>Usage: {@code DecodeSpeed [--testdata DIR] [--models tiny,7b-width] [--prompt 16] [--tokens 32] [--rounds 5]
 * [--warmup 1] [--out FILE.json]}.
 */
public final class DecodeSpeed {

    private DecodeSpeed() {
    }

    /** One model's timings: prefill milliseconds and decode milliseconds per token, one of each per round. */
    record Timing(String model, int promptTokens, int newTokens, double[] prefillMillis, double[] decodeMillis) {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opts = options(args);
        Path testdata = Path.of(opts.getOrDefault("testdata", "testdata"));
        List<String> models = List.of(opts.getOrDefault("models", "tiny,7b-width").split(","));
        int prompt = positive(opts, "prompt", 16);
        int tokens = positive(opts, "tokens", 32);
        if (tokens < 2) {
            throw new IllegalArgumentException("--tokens must be at least 2 (the first comes from the prefill), got "
                    + tokens);
        }
        int rounds = positive(opts, "rounds", 5);
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "1"));
        System.out.println(MachineInfo.line(MachineInfo.json()));
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.set("machine", MachineInfo.json());
        ObjectNode results = out.putObject("models");
        for (String name : models) {
            Timing t = measure(name, weights(name, testdata), prompt, tokens, rounds, warmup);
            System.out.printf(Locale.ROOT, "%-9s prompt %d, %d new tokens: prefill %s ms, decode %s ms/token%n", name,
                    t.promptTokens(), t.newTokens(), summary(t.prefillMillis()), summary(t.decodeMillis()));
            ObjectNode m = results.putObject(name);
            m.put("prompt_tokens", t.promptTokens());
            m.put("new_tokens", t.newTokens());
            m.put("prefill_ms_median", median(t.prefillMillis()));
            m.put("decode_ms_per_token_median", median(t.decodeMillis()));
            Arrays.stream(t.prefillMillis()).forEach(m.putArray("prefill_ms")::add);
            Arrays.stream(t.decodeMillis()).forEach(m.putArray("decode_ms_per_token")::add);
        }
        if (opts.containsKey("out")) {
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(Path.of(opts.get("out")).toFile(), out);
        }
    }

    static LlamaWeights weights(String name, Path testdata) {
        return switch (name) {
            case "tiny" -> LlamaModel.load(testdata.resolve("models").resolve("tiny-llama-f32")).weights();
            case "7b-width" -> RandomLlama.weights(RandomLlama.llama2_7bWidth(2), 42);
            default -> throw new IllegalArgumentException("--models: unknown model '" + name
                    + "'; expected tiny or 7b-width");
        };
    }

    /** Greedy generation of {@code tokens} new tokens after a random prompt, timed {@code rounds} times. */
    static Timing measure(String name, LlamaWeights weights, int prompt, int tokens, int rounds, int warmup) {
        if (prompt + tokens > weights.config().maxPositionEmbeddings()) {
            throw new IllegalArgumentException("--prompt + --tokens = " + (prompt + tokens) + " exceeds the model's "
                    + "max_position_embeddings (" + weights.config().maxPositionEmbeddings() + ")");
        }
        Generator generator = new Generator(new KvCacheStepper(new KvCacheForward(weights)), null, Set.of());
        Random rng = new Random(7);
        int[] ids = new int[prompt]; // [T]
        ids[0] = 1;
        for (int i = 1; i < prompt; i++) {
            ids[i] = rng.nextInt(weights.config().vocabSize());
        }
        GenerationConfig config = GenerationConfig.greedy(tokens);
        List<double[]> timed = new ArrayList<>();
        for (int r = 0; r < warmup + rounds; r++) {
            GenerationResult g = generator.generate(ids, config, null);
            if (r >= warmup) {
                timed.add(new double[] {g.prefillNanos() / 1e6, g.decodeMillisPerToken()});
            }
        }
        return new Timing(name, prompt, tokens, timed.stream().mapToDouble(x -> x[0]).toArray(),
                timed.stream().mapToDouble(x -> x[1]).toArray());
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static String summary(double[] values) {
        return String.format(Locale.ROOT, "%.2f [%.2f–%.2f]", median(values), Arrays.stream(values).min().orElse(0),
                Arrays.stream(values).max().orElse(0));
    }

    private static int positive(Map<String, String> opts, String key, int fallback) {
        int v = Integer.parseInt(opts.getOrDefault(key, Integer.toString(fallback)));
        if (v < 1) {
            throw new IllegalArgumentException("--" + key + " must be at least 1, got " + v);
        }
        return v;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got " + Arrays.toString(args));
            }
            opts.put(args[i].substring(2), args[++i]);
        }
        return opts;
    }
}
