package dev.mor4j.core.adapter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An adapter directory in PEFT's layout: {@code adapter_config.json} and {@code adapter_model.safetensors}
 * with keys such as {@code base_model.model.model.layers.0.mlp.up_proj.lora_A.weight}. LoRA and DoRA
 * directories written here load in Python PEFT unchanged.
 */
public final class AdapterFiles {

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A loaded adapter directory. */
    public record Loaded(Path directory, AdapterConfig config, Map<String, INDArray> weights) {
    }

    private AdapterFiles() {
    }

    /** Reads the config and all weights (as FLOAT arrays, in file order). */
    public static Loaded load(Path dir) {
        Path cfgFile = dir.resolve(CONFIG);
        Path weightsFile = dir.resolve(WEIGHTS);
        if (!Files.isDirectory(dir)) {
            throw new MorException(dir + ": not a directory (expected an adapter directory with " + CONFIG
                    + " and " + WEIGHTS + ")");
        }
        for (Path p : new Path[] {cfgFile, weightsFile}) {
            if (!Files.isRegularFile(p)) {
                throw new MorException(p + ": not found (an adapter directory holds " + CONFIG + " and " + WEIGHTS + ")");
            }
        }
        AdapterConfig config = readConfig(cfgFile);
        Map<String, INDArray> weights = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(weightsFile)) {
            for (String k : f.keys()) {
                weights.put(k, f.getFloat(k));
            }
        }
        return new Loaded(dir, config, weights);
    }

    /** Parses {@code adapter_config.json}; checks the fields every adapter needs. */
    public static AdapterConfig readConfig(Path file) {
        AdapterConfig c;
        try {
            c = JSON.readValue(file.toFile(), AdapterConfig.class);
        } catch (MorException e) {
            throw new MorException(file + ": " + e.getMessage());
        } catch (IOException e) {
            Throwable cause = e.getCause() instanceof MorException ? e.getCause() : e;
            throw new MorException(file + ": not a valid adapter config: " + cause.getMessage());
        }
        try {
            c.method();
        } catch (MorException e) {
            throw new MorException(file + ": " + e.getMessage().replace("adapter_config.json: ", ""));
        }
        if (c.r() <= 0) {
            throw new MorException(file + ": 'r' must be a positive integer, got " + c.r());
        }
        if (c.targetModules() == null || c.targetModules().isEmpty()) {
            throw new MorException(file + ": 'target_modules' must list at least one module (e.g. [\"up_proj\"])");
        }
        return c;
    }

    /**
     * Writes the directory (created if needed). Each file is written to a temporary name and renamed, so a
     * crash never leaves a half-written adapter.
     */
    public static void save(Path dir, AdapterConfig config, Map<String, INDArray> weights) {
        try {
            AtomicFiles.writeJson(dir.resolve(CONFIG), JSON, configJson(config));
        } catch (IOException e) {
            throw new MorException(dir + ": cannot write the adapter: " + e.getMessage(), e);
        }
        SafetensorsWriter.write(dir.resolve(WEIGHTS), new TreeMap<>(weights), Map.of("format", "pt"));
    }

    /** The JSON written for a config: PEFT's own fields for LoRA/DoRA so that PEFT loads it unchanged. */
    static ObjectNode configJson(AdapterConfig c) {
        ObjectNode n = JSON.valueToTree(c);
        if (c.method() == AdapterMethod.LORA || c.method() == AdapterMethod.DORA) {
            for (String k : new String[] {"num_experts", "router", "top_k", "router_aux_loss_coef", "omega_init"}) {
                n.remove(k);
            }
            n.put("bias", "none");
            n.put("fan_in_fan_out", false);
            n.put("inference_mode", true);
            n.put("init_lora_weights", true);
            n.putNull("modules_to_save");
            n.putNull("layers_to_transform");
            n.putNull("layers_pattern");
            if (!n.has("rank_pattern")) {
                n.putObject("rank_pattern");
            }
            if (!n.has("alpha_pattern")) {
                n.putObject("alpha_pattern");
            }
        }
        return n;
    }
}
