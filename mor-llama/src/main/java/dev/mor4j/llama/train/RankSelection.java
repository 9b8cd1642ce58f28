package dev.mor4j.llama.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.adapter.MixtureOfRankExperts;
import dev.mor4j.llama.adapter.LlamaAdapters;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which rank each task chose in each module of a MoRE adapter, and the selector's probabilities
 * {@code p = softmax(W_g·E[t] + b_g)} behind the choice. A function of the weights alone, so a resumed run ends with
 * the selection of an uninterrupted one. Saved as {@value RouterStats#FILE} beside the adapter (where MoR and
 * MoE-LoRA keep their router statistics).
 *
 * @param modules       the adapted modules (PEFT prefixes), in model order
 * @param rankExperts   the rank experts' ranks {@code r_1 < … < r_K}
 * @param tasks         the task names, in task-id order
 * @param chosenRanks   {@code [tasks][modules]}: the rank {@code r_k*} each task uses in each module
 * @param probabilities {@code [tasks][modules][K]}: the selector's probabilities
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record RankSelection(List<String> modules, int[] rankExperts, List<String> tasks, int[][] chosenRanks,
        double[][][] probabilities) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * The selection of a MoRE adapter's current weights.
     *
     * @throws MorException when the adapters are not MoRE
     */
    public static RankSelection of(LlamaAdapters adapters) {
        List<MixtureOfRankExperts> layers = new ArrayList<>();
        for (AdapterLayer l : adapters.layers().values()) {
            if (!(l instanceof MixtureOfRankExperts m)) {
                throw new MorException(l.prefix() + ": rank selection needs a MoRE adapter, got "
                        + adapters.config().method());
            }
            layers.add(m);
        }
        List<String> tasks = adapters.config().taskNames();
        int[][] chosen = new int[tasks.size()][layers.size()];
        double[][][] p = new double[tasks.size()][layers.size()][];
        for (int t = 0; t < tasks.size(); t++) {
            for (int m = 0; m < layers.size(); m++) {
                MixtureOfRankExperts layer = layers.get(m);
                p[t][m] = layer.rankProbabilities(adapters.weights(), t);
                chosen[t][m] = layer.ranks()[argmax(p[t][m])];
            }
        }
        List<String> modules = layers.stream().map(AdapterLayer::prefix).toList();
        return new RankSelection(modules, layers.isEmpty() ? new int[0] : layers.get(0).ranks(), tasks, chosen, p);
    }

    private static int argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Writes {@value RouterStats#FILE} into {@code dir} (atomically). */
    public void save(Path dir) {
        Path file = dir.resolve(RouterStats.FILE);
        try {
            AtomicFiles.writeJson(file, JSON, this);
        } catch (IOException e) {
            throw new MorException(file + ": cannot write the rank selection: " + e.getMessage(), e);
        }
    }

    /** Reads a saved selection. */
    public static RankSelection read(Path file) {
        try {
            return JSON.readValue(file.toFile(), RankSelection.class);
        } catch (IOException e) {
            throw new MorException(file + ": not a MoRE rank selection: " + e.getMessage(), e);
        }
    }

    /**
     * A text table: one row per task, one column per module (its short name, e.g. {@code 0.gate}), each cell the
     * chosen rank.
     */
    public String table() {
        StringBuilder sb = new StringBuilder();
        int width = tasks.stream().mapToInt(String::length).max().orElse(4);
        sb.append(String.format(Locale.ROOT, "%-" + width + "s", "task"));
        for (String m : modules) {
            sb.append(String.format(Locale.ROOT, " %7s", shortName(m)));
        }
        sb.append('\n');
        for (int t = 0; t < tasks.size(); t++) {
            sb.append(String.format(Locale.ROOT, "%-" + width + "s", tasks.get(t)));
            for (int m = 0; m < modules.size(); m++) {
                sb.append(String.format(Locale.ROOT, " %7d", chosenRanks[t][m]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** {@code base_model.model.model.layers.3.mlp.up_proj} → {@code 3.up}. */
    public static String shortName(String module) {
        String[] parts = module.split("\\.");
        String proj = parts[parts.length - 1].replace("_proj", "");
        for (int i = 0; i + 1 < parts.length; i++) {
            if (parts[i].equals("layers")) {
                return parts[i + 1] + "." + proj;
            }
        }
        return proj;
    }
}
