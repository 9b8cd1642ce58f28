package dev.mor4j.llama.adapter;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.adapter.AdapterMethod;
import dev.mor4j.core.safetensors.SafetensorsWriter;
import dev.mor4j.llama.model.LlamaModel;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Folds a LoRA or DoRA adapter into the base weights (PEFT's {@code merge_and_unload}) and writes a Hugging
 * Face checkpoint directory. MoR and MoELoRA cannot be merged: their update depends on each token through
 * the router.
 */
public final class AdapterMerge {

    private AdapterMerge() {
    }

    /** The merged weights {@code [d_out, d_in]} by module name. */
    public static Map<String, INDArray> mergedWeights(LlamaAdapters adapters) {
        AdapterMethod method = adapters.config().method();
        if (method != AdapterMethod.LORA && method != AdapterMethod.DORA) {
            throw new MorException("a " + method + " adapter cannot be merged into the base weights: its router weighs "
                    + "the experts differently for every token, so no single weight matrix computes the same function; "
                    + "load it with --adapter instead");
        }
        Map<String, INDArray> merged = new LinkedHashMap<>();
        for (Map.Entry<String, AdapterLayer> e : adapters.layers().entrySet()) {
            merged.put(e.getKey(), e.getValue().mergedWeight(adapters.weights()));
        }
        return merged;
    }

    /**
     * Writes {@code out} (which must not exist, or be an empty directory) with {@code config.json}, the merged
     * {@code model.safetensors} and the model directory's other small files (tokenizer, generation config). The
     * directory is assembled under a temporary name and renamed at the end.
     */
    public static void write(LlamaModel model, LlamaAdapters adapters, Path out) {
        Map<String, INDArray> merged = mergedWeights(adapters);
        if (Files.exists(out) && !isEmptyDir(out)) {
            throw new MorException(out + ": already exists and is not empty; choose a new --out directory");
        }
        Path parent = out.toAbsolutePath().getParent();
        Path tmp = parent.resolve("." + out.getFileName() + ".tmp");
        try {
            deleteTree(tmp);
            Files.createDirectories(tmp);
            try (DirectoryStream<Path> files = Files.newDirectoryStream(model.directory())) {
                for (Path f : files) {
                    String name = f.getFileName().toString();
                    if (Files.isRegularFile(f) && !name.endsWith(".safetensors") && !name.equals("model.safetensors.index.json")) {
                        Files.copy(f, tmp.resolve(name));
                    }
                }
            }
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), model.weights().stateDict(merged),
                    Map.of("format", "pt"));
            if (Files.exists(out)) {
                Files.delete(out); // an empty directory
            }
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new MorException(out + ": cannot write the merged checkpoint: " + e.getMessage(), e);
        } finally {
            deleteTree(tmp);
        }
    }

    private static boolean isEmptyDir(Path p) {
        try (Stream<Path> s = Files.list(p)) {
            return Files.isDirectory(p) && s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort clean-up of our own temporary directory
        }
    }
}
