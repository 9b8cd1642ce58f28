package dev.mor4j.llama.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.model.Batch;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Mean router weight of every adapted module × expert, per source dataset of the training examples (the
 * quantity of the MoR paper's Fig. 7), accumulated over the training passes: each real token (attention 1)
 * adds its row of router weights {@code g(x) [N]} to its micro-batch's sums for its example's {@code dataset}
 * ({@link Counts}), which are then added to the run's; padding is not counted. The sums are kept in double and
 * saved in every checkpoint ({@value #FILE}), so a resumed run ends with the statistics of an uninterrupted one.
 */
public final class RouterStats {

    /** The file name in checkpoints and output directories. */
    public static final String FILE = "router_stats.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * The statistics as saved.
     *
     * @param modules  the adapted modules (PEFT prefixes), in graph order
     * @param experts  N, the experts of every module
     * @param datasets per dataset: tokens counted and the sums of router weights {@code [modules][N]}
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Snapshot(List<String> modules, int experts, Map<String, DatasetSums> datasets) {
    }

    /**
     * @param tokens tokens counted
     * @param sums   {@code [modules][N]} sums of router weights over those tokens
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record DatasetSums(long tokens, double[][] sums) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Running sums of one dataset. */
    private static final class Sums {
        long tokens;
        final double[][] sums; // [modules][N]

        Sums(long tokens, double[][] sums) {
            this.tokens = tokens;
            this.sums = sums;
        }
    }

    private final List<String> modules;
    private final int experts;
    private final Map<String, Sums> datasets = new TreeMap<>();

    /**
     * @param modules the module prefixes whose router weights are counted, in order
     * @param experts N
     */
    public RouterStats(List<String> modules, int experts) {
        this.modules = List.copyOf(modules);
        this.experts = experts;
    }

    public List<String> modules() {
        return modules;
    }

    public int experts() {
        return experts;
    }

    /** True when there is no router to count (LoRA, DoRA). */
    public boolean isEmpty() {
        return modules.isEmpty();
    }

    /**
     * The router weights of one micro-batch, summed per dataset: what {@link #add(Counts)} adds to the totals. A
     * value, so it can be computed where the micro-batch ran and added where the statistics are kept.
     *
     * @param datasets per dataset of the micro-batch's examples: its real tokens and their router weights' sums
     *                 {@code [modules][N]}
     */
    public record Counts(Map<String, DatasetSums> datasets) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * Counts one micro-batch ({@link #count} then {@link #add(Counts)}).
     *
     * @param weights         router weights {@code [B·T, N]} of each module, in {@link #modules()} order
     * @param batch           the batch, padded or packed (its attention mask says which positions are real tokens,
     *                        {@link Batch#exampleOfToken()} which example each belongs to)
     * @param exampleDatasets the dataset of each of the batch's examples ({@link Batch#exampleCount()})
     */
    public void add(List<INDArray> weights, Batch batch, List<String> exampleDatasets) {
        add(count(weights, batch, exampleDatasets));
    }

    /**
     * Sums one micro-batch's router weights per dataset, token by token in row order, without adding them to the
     * totals.
     *
     * @param weights         router weights {@code [B·T, N]} of each module, in {@link #modules()} order
     * @param batch           the batch, padded or packed
     * @param exampleDatasets the dataset of each of the batch's examples ({@link Batch#exampleCount()})
     * @throws MorException if a module's weights are not {@code [B·T, N]}
     */
    public Counts count(List<INDArray> weights, Batch batch, List<String> exampleDatasets) {
        if (exampleDatasets.size() != batch.exampleCount()) {
            throw new IllegalArgumentException("expected the datasets of " + batch.exampleCount() + " examples, got "
                    + exampleDatasets.size());
        }
        if (weights.size() != modules.size()) {
            throw new IllegalArgumentException("expected router weights of " + modules.size() + " modules, got "
                    + weights.size());
        }
        int b = batch.batchSize();
        int t = batch.seqLen();
        List<double[]> values = new ArrayList<>();
        for (int m = 0; m < weights.size(); m++) {
            INDArray w = weights.get(m); // [B·T, N]
            if (w.rank() != 2 || w.size(0) != (long) b * t || w.size(1) != experts) {
                throw new MorException(modules.get(m) + ": router weights have shape " + Arrays.toString(w.shape())
                        + "; expected [" + (long) b * t + ", " + experts + "]");
            }
            values.add(w.castTo(DataType.DOUBLE).dup('c').data().asDouble());
        }
        Map<String, Sums> counts = new TreeMap<>();
        int[] exampleOf = batch.exampleOfToken(); // [B·T]
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                if (batch.attentionMask()[i][j] == 0) {
                    continue;
                }
                Sums d = counts.computeIfAbsent(exampleDatasets.get(exampleOf[i * t + j]),
                        k -> new Sums(0, new double[modules.size()][experts]));
                d.tokens++;
                int row = i * t + j;
                for (int m = 0; m < values.size(); m++) {
                    double[] src = values.get(m);
                    double[] dst = d.sums[m];
                    for (int e = 0; e < experts; e++) {
                        dst[e] += src[row * experts + e];
                    }
                }
            }
        }
        Map<String, DatasetSums> out = new TreeMap<>();
        counts.forEach((k, d) -> out.put(k, new DatasetSums(d.tokens, d.sums)));
        return new Counts(out);
    }

    /**
     * Adds one micro-batch's counts to the totals. Adding the micro-batches in the same order gives the same bits
     * wherever they were counted.
     *
     * @throws MorException if the counts are of another number of modules or experts
     */
    public void add(Counts counts) {
        counts.datasets().forEach((k, c) -> {
            if (c.sums().length != modules.size() || Arrays.stream(c.sums()).anyMatch(r -> r.length != experts)) {
                throw new MorException("router counts of dataset '" + k + "' are not [" + modules.size() + "]["
                        + experts + "]");
            }
            Sums d = datasets.computeIfAbsent(k, x -> new Sums(0, new double[modules.size()][experts]));
            d.tokens += c.tokens();
            for (int m = 0; m < modules.size(); m++) {
                for (int e = 0; e < experts; e++) {
                    d.sums[m][e] += c.sums()[m][e];
                }
            }
        });
    }

    /** Datasets seen, sorted by name. */
    public List<String> datasetNames() {
        return new ArrayList<>(datasets.keySet());
    }

    /** Tokens counted for a dataset. */
    public long tokens(String dataset) {
        Sums d = datasets.get(dataset);
        return d == null ? 0 : d.tokens;
    }

    /** Mean router weight {@code [modules][N]} of a dataset's tokens (each row sums to 1). */
    public double[][] mean(String dataset) {
        Sums d = datasets.get(dataset);
        if (d == null || d.tokens == 0) {
            throw new MorException("no router statistics for dataset '" + dataset + "'; known: " + datasetNames());
        }
        double[][] out = new double[modules.size()][experts];
        for (int m = 0; m < out.length; m++) {
            for (int e = 0; e < experts; e++) {
                out[m][e] = d.sums[m][e] / d.tokens;
            }
        }
        return out;
    }

    /** A copy of the sums. */
    public Snapshot snapshot() {
        Map<String, DatasetSums> copy = new LinkedHashMap<>();
        datasets.forEach((k, d) -> copy.put(k, new DatasetSums(d.tokens, copy(d.sums))));
        return new Snapshot(modules, experts, copy);
    }

    /**
     * Replaces the sums with saved ones.
     *
     * @throws MorException naming {@code source} if they are of other modules or shapes
     */
    public void restore(Snapshot s, String source) {
        if (!modules.equals(s.modules()) || s.experts() != experts) {
            throw new MorException(source + ": router statistics of modules " + s.modules() + " with " + s.experts()
                    + " experts; the adapter has " + modules + " with " + experts);
        }
        Map<String, Sums> restored = new TreeMap<>();
        s.datasets().forEach((k, d) -> {
            if (d.sums() == null || d.sums().length != modules.size()
                    || Arrays.stream(d.sums()).anyMatch(r -> r.length != experts)) {
                throw new MorException(source + ": sums of dataset '" + k + "' are not [" + modules.size() + "]["
                        + experts + "]");
            }
            restored.put(k, new Sums(d.tokens(), copy(d.sums())));
        });
        datasets.clear();
        datasets.putAll(restored);
    }

    private static double[][] copy(double[][] a) {
        double[][] out = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
        }
        return out;
    }

    /** Writes {@code dir/router_stats.json} (via a temporary file and a rename). */
    public void save(Path dir) {
        Path file = dir.resolve(FILE);
        try {
            AtomicFiles.writeJson(file, JSON, snapshot());
        } catch (IOException e) {
            throw new MorException(file + ": cannot write router statistics: " + e.getMessage(), e);
        }
    }

    /** Reads a {@value #FILE}. */
    public static Snapshot read(Path file) {
        try {
            return JSON.readValue(file.toFile(), Snapshot.class);
        } catch (IOException e) {
            throw new MorException(file + ": not valid router statistics: " + e.getMessage(), e);
        }
    }
}
