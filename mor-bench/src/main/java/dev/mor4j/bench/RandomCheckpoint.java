package dev.mor4j.bench;

import dev.mor4j.core.FileTrees;
import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.ShardPlan;
import dev.mor4j.core.safetensors.ShardedCheckpointWriter;
import dev.mor4j.core.safetensors.TensorSpec;
import dev.mor4j.core.safetensors.TensorValues;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Generates full-size random LLaMA checkpoints to test loading, merging and memory at real sizes without
 * downloading models: a Hugging Face model directory per {@link CheckpointShape} with {@code config.json},
 * {@code generation_config.json}, the matching tokenizer files from {@code testdata/tokenizers}, and BF16 weights
 * in 5 GB shards as {@code save_pretrained} writes them. Projections and embeddings are N(0, 0.02²) (transformers'
 * {@code initializer_range}), norm weights 1; every tensor is seeded by the seed and its key, so a run is
 * reproducible. Tensors are generated while they are written, one 1 MiB chunk at a time: memory stays small
 * whatever the model's size.
 *
 * <pre>
 * RandomCheckpoint --out DIR [--model llama2-7b|llama3-8b|all] [--layers N] [--seed S] [--max-shard-size 5GB]
 *                  [--tokenizers testdata/tokenizers]
 * </pre>
 * writes {@code DIR/llama2-7b-random} (about 13.5 GB) and {@code DIR/llama3-8b-random} (about 16 GB). An existing
 * model directory is replaced only if it holds nothing but files this tool writes.
 */
public final class RandomCheckpoint {

    /** Standard deviation of the random matrices. */
    public static final double STD = 0.02;

    private static final Pattern WEIGHTS =
            Pattern.compile("model\\.safetensors(\\.index\\.json)?|model-\\d{5}-of-\\d{5}\\.safetensors");

    private RandomCheckpoint() {
    }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (MorException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        }
    }

    private static void run(String[] args) {
        Path out = null;
        String model = "all";
        Integer layers = null;
        long seed = 0;
        long maxShardSize = ShardedCheckpointWriter.DEFAULT_MAX_SHARD_SIZE;
        Path tokenizers = Path.of("testdata", "tokenizers");
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--out" -> out = Path.of(require(args[i], value));
                case "--model" -> model = require(args[i], value);
                case "--layers" -> layers = positive(args[i], require(args[i], value));
                case "--seed" -> seed = Long.parseLong(require(args[i], value));
                case "--max-shard-size" -> maxShardSize = ShardedCheckpointWriter.parseSize(require(args[i], value));
                case "--tokenizers" -> tokenizers = Path.of(require(args[i], value));
                default -> throw new MorException("unknown option " + args[i] + "; expected --out DIR, --model "
                        + "llama2-7b|llama3-8b|all, --layers N, --seed S, --max-shard-size SIZE, --tokenizers DIR");
            }
            i++;
        }
        if (out == null) {
            throw new MorException("--out DIR is required: the directory to write the model directories into");
        }
        List<CheckpointShape> shapes = new ArrayList<>();
        for (String name : model.equals("all") ? List.of("llama2-7b", "llama3-8b") : List.of(model)) {
            CheckpointShape s = CheckpointShape.preset(name);
            if (s == null) {
                throw new MorException("--model '" + name + "': expected llama2-7b, llama3-8b or all");
            }
            shapes.add(layers == null ? s : s.withLayers(layers));
        }
        for (CheckpointShape s : shapes) {
            Path dir = out.resolve(s.name() + "-random");
            long t0 = System.nanoTime();
            ShardPlan plan = generate(s, dir, seed, maxShardSize, tokenizers, System.err);
            System.out.printf("%s: %d layers, %,d parameters, %,d bytes of BF16 weights in %d file%s, %.1f s%n", dir,
                    s.layers(), plan.totalParameters(), plan.totalSize(), plan.shards().size(),
                    plan.isSharded() ? "s" : "", (System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * Writes one model directory: assembled in a hidden sibling directory and renamed to {@code dir} when
     * complete, replacing a {@code dir} this tool wrote before.
     *
     * @param progress where to report progress (every 10 s), or null
     * @return the weight files written
     */
    public static ShardPlan generate(CheckpointShape shape, Path dir, long seed, long maxShardSize, Path tokenizers,
            PrintStream progress) {
        Path tokenizerDir = tokenizers.resolve(shape.tokenizer());
        if (!Files.isDirectory(tokenizerDir)) {
            throw new MorException(tokenizerDir + ": no such directory; expected the tokenizer files of " + shape.name()
                    + " (run from the repository root or pass --tokenizers DIR)");
        }
        Set<String> ours = new HashSet<>(List.of("config.json", "generation_config.json"));
        ours.addAll(fileNames(tokenizerDir));
        if (Files.exists(dir)) {
            for (String name : fileNames(dir)) {
                if (!ours.contains(name) && !WEIGHTS.matcher(name).matches()) {
                    throw new MorException(dir + ": exists and holds " + name + ", which this tool does not write;"
                            + " remove it or choose another --out");
                }
            }
        }
        Path tmp = dir.toAbsolutePath().resolveSibling("." + dir.getFileName() + ".tmp");
        try {
            deleteTree(tmp);
            Files.createDirectories(tmp);
            for (String name : fileNames(tokenizerDir)) {
                Files.copy(tokenizerDir.resolve(name), tmp.resolve(name));
            }
            Files.writeString(tmp.resolve("config.json"), shape.configJson());
            Files.writeString(tmp.resolve("generation_config.json"), shape.generationConfigJson());
            Progress p = new Progress(shape.tensors(), progress);
            ShardPlan plan = ShardedCheckpointWriter.write(tmp, shape.tensors(), spec -> {
                p.starting(spec);
                return values(spec, seed);
            }, maxShardSize);
            deleteTree(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            return plan;
        } catch (IOException e) {
            throw new MorException(dir + ": cannot write: " + e.getMessage(), e);
        } finally {
            try {
                deleteTree(tmp);
            } catch (MorException ignored) {
                // best effort: a failure before this one is what to report
            }
        }
    }

    /** Norm weights are ones; every other tensor N(0, {@value #STD}²). */
    static TensorValues values(TensorSpec spec, long seed) {
        boolean norm = spec.key().endsWith("layernorm.weight") || spec.key().equals("model.norm.weight");
        return norm ? RandomValues.constant(spec, 1f) : RandomValues.gaussian(spec, STD, seed);
    }

    /** Prints bytes written and the rate at most every 10 s. */
    private static final class Progress {
        private final long total;
        private final PrintStream out;
        private final long start = System.nanoTime();
        private long done;
        private long lastPrint = start;

        Progress(List<TensorSpec> tensors, PrintStream out) {
            this.total = tensors.stream().mapToLong(TensorSpec::byteLength).sum();
            this.out = out;
        }

        void starting(TensorSpec spec) {
            long now = System.nanoTime();
            if (out != null && now - lastPrint > 10_000_000_000L) {
                double s = (now - start) / 1e9;
                out.printf("  %5.1f s: %,d of %,d bytes (%.0f MB/s), now %s%n", s, done, total, done / s / 1e6,
                        spec.key());
                lastPrint = now;
            }
            done += spec.byteLength();
        }
    }

    private static int positive(String option, String value) {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n < 1) {
            throw new MorException(option + " '" + value + "': expected a positive whole number");
        }
        return n;
    }

    private static String require(String option, String value) {
        if (value == null) {
            throw new MorException(option + " needs a value");
        }
        return value;
    }

    private static List<String> fileNames(Path dir) {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (Files.isRegularFile(p)) {
                    names.add(p.getFileName().toString());
                } else {
                    throw new MorException(dir + ": holds " + p.getFileName() + ", which is not a regular file");
                }
            }
        } catch (IOException e) {
            throw new MorException(dir + ": cannot list: " + e.getMessage(), e);
        }
        return names;
    }

    private static void deleteTree(Path p) {
        try {
            FileTrees.deleteRecursively(p);
        } catch (IOException e) {
            throw new MorException(p + ": cannot remove: " + e.getMessage(), e);
        }
    }
}
