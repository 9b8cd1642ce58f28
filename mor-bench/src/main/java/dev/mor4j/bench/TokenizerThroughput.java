package dev.mor4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tokenizer and encoder throughput on one thread: the bundled Tulu-v2 sample's training texts, repeated to at
 * least {@code --mb} megabytes, encoded by the SentencePiece-style tokenizer ({@code sp-bpe-32k}), the LLaMA-3
 * byte-level one, the whole {@link TuluEncoder} with each (input ids and labels), and HF {@code tokenizers} on
 * the same texts with the same {@code tokenizer.json} files, in the same process ({@link HfTokenizers}).
 *
 * <p>The corpus is cut into {@code --rounds} equal slices; each round every task encodes one slice, in an order
 * that rotates from round to round ({@link Interleaved}), after {@code --warmup} untimed rounds. Each task thus
 * encodes the whole corpus once. Reported: median MB/s (UTF-8 bytes of input text, 10^6 bytes) with quartiles
 * over the rounds, and per-round throughput ratios to HF. Before timing, the ids of both implementations are
 * compared on the distinct texts (the first 200); the run stops when they differ.
 *
 * <p>With {@code --corpus random} the slices are random conversations instead ({@link TuluCorpus#random}), every
 * one different, whose words rarely repeat: both implementations cache at most 10,000 words, a small part of a
 * slice's, so the merges run for most words. HF's ids are compared on the first 200 distinct texts.
 *
 * <p>Usage: {@code TokenizerThroughput [--testdata DIR] [--corpus sample|random] [--mb 50] [--rounds 10]
 * [--warmup 1] [--no-hf] [--out FILE.json]}.
 */
public final class TokenizerThroughput {

    private static final String[] TOKENIZERS = {"sp-bpe-32k", "llama3"};

    private TokenizerThroughput() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opts = options(args);
        Path testdata = Path.of(opts.getOrDefault("testdata", "testdata"));
        double mb = Double.parseDouble(opts.getOrDefault("mb", "50"));
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "10"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "1"));
        boolean withHf = !opts.containsKey("no-hf");
        String corpus = opts.getOrDefault("corpus", "sample");
        if (!corpus.equals("sample") && !corpus.equals("random")) {
            throw new IllegalArgumentException("--corpus must be sample or random, got " + corpus);
        }
        long sliceBytes = (long) Math.ceil(mb * 1e6 / rounds);

        Interleaved timing = new Interleaved();
        Map<String, TuluCorpus> slices = new LinkedHashMap<>();
        long[] sink = new long[1];
        String hfProblem = null;
        for (String name : TOKENIZERS) {
            Path dir = testdata.resolve("tokenizers").resolve(name);
            Tokenizer tokenizer = Tokenizer.load(dir);
            TuluEncoder encoder = new TuluEncoder(tokenizer, Integer.MAX_VALUE);
            TuluCorpus slice = corpus.equals("random") ? TuluCorpus.random(encoder, sliceBytes, 42)
                    : TuluCorpus.repeat(testdata.resolve("tulu/tulu_v2_sample.jsonl"), encoder, sliceBytes);
            slices.put(name, slice);
            timing.add(name, () -> {
                for (String text : slice.texts()) {
                    sink[0] += tokenizer.encode(text, true).length;
                }
            });
            if (withHf && hfProblem == null) {
                try {
                    HfTokenizers hf = HfTokenizers.load(dir.resolve(Tokenizer.FILE_NAME));
                    checkSameIds(name, tokenizer, hf, slice);
                    timing.add("hf " + name, () -> {
                        for (String text : slice.texts()) {
                            sink[0] += hf.encode(text, true).length;
                        }
                    });
                } catch (MorException e) {
                    hfProblem = e.getMessage();
                    System.out.println("without HF tokenizers: " + hfProblem);
                }
            }
            timing.add("encoder " + name, () -> {
                for (Conversation c : slice.conversations()) {
                    sink[0] += encoder.encode(c).trainableTokens();
                }
            });
        }
        System.out.printf("slices of %.2f MB, %d rounds (+%d warm-up): %.1f MB per task%n",
                slices.get("llama3").megabytes(), rounds, warmup, slices.get("llama3").megabytes() * rounds);
        timing.run(warmup, rounds);

        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("date", LocalDate.now().toString());
        out.put("cpu", MachineInfo.cpuModel());
        out.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        out.put("hf_tokenizers", hfProblem == null && withHf ? HfTokenizers.version() : "not run");
        out.put("load_average_1min", MachineInfo.loadAverage());
        out.put("corpus", corpus);
        out.put("rounds", rounds);
        out.put("slice_mb", slices.get("llama3").megabytes());
        ObjectNode tasks = out.putObject("tasks");
        System.out.printf("%-20s %-26s %s%n", "task", "MB/s median [p25–p75]", "examples/s median");
        for (String name : TOKENIZERS) {
            TuluCorpus slice = slices.get(name);
            for (String task : new String[] {name, "hf " + name, "encoder " + name}) {
                if (!timing.names().contains(task)) {
                    continue;
                }
                Interleaved.Stats mbps = perSecond(timing.millis(task), slice.megabytes());
                Interleaved.Stats examples = perSecond(timing.millis(task), slice.conversations().size());
                ObjectNode t = tasks.putObject(task);
                t.set("mb_per_s", TrainingRun.stats(mbps));
                System.out.printf("%-20s %-26s %s%n", task, mbps.format(2),
                        task.startsWith("encoder") ? String.format("%.0f", examples.median()) : "");
                if (task.startsWith("encoder")) {
                    t.set("examples_per_s", TrainingRun.stats(examples));
                }
            }
            if (timing.names().contains("hf " + name)) {
                // throughput ratio ours / HF = HF's time / ours, per round
                Interleaved.Stats r = timing.ratio("hf " + name, name);
                tasks.with(name).set("over_hf", TrainingRun.stats(r));
                System.out.printf("%s / HF tokenizers (throughput, per round): %s%n", name, r.format(3));
            }
        }
        System.out.println("(checksum " + sink[0] + ")");
        if (opts.containsKey("out")) {
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(Path.of(opts.get("out")).toFile(), out);
        }
    }

    /** Stops the run when HF's ids differ from ours on one of the distinct texts of the corpus. */
    private static void checkSameIds(String name, Tokenizer ours, HfTokenizers hf, TuluCorpus corpus) {
        for (String text : corpus.texts().stream().distinct().limit(200).toList()) {
            int[] a = ours.encode(text, true);
            int[] b = hf.encode(text, true);
            if (!Arrays.equals(a, b)) {
                throw new IllegalStateException(name + ": ids differ from HF tokenizers on " + text);
            }
        }
    }

    /** Per-round rate: {@code amount} per second of each round's milliseconds. */
    private static Interleaved.Stats perSecond(double[] millis, double amount) {
        double[] rate = new double[millis.length];
        for (int i = 0; i < rate.length; i++) {
            rate[i] = amount / (millis[i] / 1000);
        }
        return Interleaved.Stats.of(rate);
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String key = args[i].substring(2);
            if (key.equals("no-hf")) {
                opts.put(key, "");
            } else if (i + 1 < args.length) {
                opts.put(key, args[++i]);
            } else {
                throw new IllegalArgumentException("--" + key + " needs a value");
            }
        }
        return opts;
    }
}
