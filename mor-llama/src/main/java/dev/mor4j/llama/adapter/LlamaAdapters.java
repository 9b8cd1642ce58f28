package dev.mor4j.llama.adapter;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.adapter.AdapterLayer;
import dev.mor4j.core.adapter.AdapterLayers;
import dev.mor4j.core.adapter.AdapterMethod;
import dev.mor4j.core.adapter.MorForm;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Adapters attached to a LLaMA model: which projections they replace (PEFT's {@code target_modules}
 * matching: a module matches a target when its name equals it or ends with {@code "." + target}) and their
 * weights, keyed as PEFT saves them ({@code base_model.model.} + module name + suffix).
 *
 * <p>MoR adapters compute their sum over experts in a {@link MorForm} ({@link MorForm#EXPANDED} unless
 * {@link #withMorForm} says otherwise). The form changes what a pass costs, never what it computes (the forms agree
 * to float rounding), and it is not saved with the adapter.
 */
public final class LlamaAdapters {

    /** What PEFT puts in front of a module name in saved keys. */
    public static final String PEFT_PREFIX = "base_model.model.";

    private final AdapterConfig config;
    private final Map<String, AdapterLayer> layers; // module name -> layer
    private final Map<String, INDArray> weights; // PEFT key -> array (trained in place)
    private final MorForm morForm;

    private LlamaAdapters(AdapterConfig config, Map<String, AdapterLayer> layers, Map<String, INDArray> weights,
            MorForm morForm) {
        this.config = config;
        this.layers = layers;
        this.weights = weights;
        this.morForm = morForm;
    }

    /** New adapters with PEFT's initialisation, drawn from a generator seeded with {@code seed}. */
    public static LlamaAdapters create(LlamaWeights model, AdapterConfig config, long seed) {
        Map<String, AdapterLayer> layers = layersFor(model, config, MorForm.EXPANDED);
        Random rng = new Random(seed);
        Map<String, INDArray> weights = new LinkedHashMap<>();
        for (AdapterLayer layer : layers.values()) {
            weights.putAll(layer.initialWeights(rng));
        }
        return new LlamaAdapters(config, layers, weights, MorForm.EXPANDED);
    }

    /** Loads an adapter directory and checks every key against the model. */
    public static LlamaAdapters load(LlamaWeights model, Path dir) {
        AdapterFiles.Loaded loaded = AdapterFiles.load(dir);
        return of(model, loaded.config(), loaded.weights(), dir.resolve(AdapterFiles.WEIGHTS).toString());
    }

    /**
     * Adapters with given weights; missing, unexpected and mis-shaped keys are all reported in one message.
     *
     * @param source names the weights' origin in messages
     */
    public static LlamaAdapters of(LlamaWeights model, AdapterConfig config, Map<String, INDArray> weights, String source) {
        return of(model, config, weights, source, MorForm.EXPANDED);
    }

    /** As {@link #of(LlamaWeights, AdapterConfig, Map, String)}, computing MoR in the given form. */
    public static LlamaAdapters of(LlamaWeights model, AdapterConfig config, Map<String, INDArray> weights, String source,
            MorForm form) {
        Map<String, AdapterLayer> layers = layersFor(model, config, form);
        Map<String, long[]> expected = new LinkedHashMap<>();
        for (AdapterLayer layer : layers.values()) {
            expected.putAll(layer.weightShapes());
        }
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            INDArray a = weights.get(e.getKey());
            if (a == null) {
                problems.add(e.getKey() + ": missing, expected shape " + Arrays.toString(e.getValue()));
            } else if (!Arrays.equals(a.shape(), e.getValue())) {
                problems.add(e.getKey() + ": expected " + Arrays.toString(e.getValue()) + ", got " + Arrays.toString(a.shape()));
            }
        }
        for (String k : new TreeSet<>(weights.keySet())) {
            if (!expected.containsKey(k)) {
                problems.add(k + ": unexpected key for a " + config.method() + " adapter on " + config.targetModules());
            }
        }
        if (!problems.isEmpty()) {
            throw new MorException(source + ": the adapter does not match the model (" + problems.size() + " problem"
                    + (problems.size() == 1 ? "" : "s") + "):\n  " + String.join("\n  ", problems));
        }
        Map<String, INDArray> ordered = new LinkedHashMap<>();
        for (String k : expected.keySet()) {
            ordered.put(k, weights.get(k));
        }
        return new LlamaAdapters(config, layers, ordered, form);
    }

    /** One adapter layer per projection that a target module names. */
    static Map<String, AdapterLayer> layersFor(LlamaWeights model, AdapterConfig config, MorForm form) {
        Set<String> unmatched = new LinkedHashSet<>(config.targetModules());
        Map<String, AdapterLayer> layers = new LinkedHashMap<>();
        Set<String> available = new TreeSet<>();
        for (String module : model.linearNames()) {
            if (module.equals("lm_head")) {
                continue;
            }
            available.add(module.substring(module.lastIndexOf('.') + 1));
            for (String target : config.targetModules()) {
                if (module.equals(target) || module.endsWith("." + target)) {
                    unmatched.remove(target);
                    layers.put(module, AdapterLayers.create(config, PEFT_PREFIX + module, model.linear(module), form));
                    break;
                }
            }
        }
        if (!unmatched.isEmpty()) {
            throw new MorException("target_modules " + unmatched + " match no linear layer of the model; it has "
                    + available);
        }
        return layers;
    }

    /**
     * These adapters (the same config and the same weight arrays, still trained in place) computing MoR's sum over
     * experts in {@code form}; this object itself when it already does. Adapters of other methods have no forms and
     * are returned unchanged.
     */
    public LlamaAdapters withMorForm(MorForm form) {
        if (form == null) {
            throw new IllegalArgumentException("the MoR form is null; expected one of EXPANDED, STACKED, LOOP");
        }
        if (form == morForm || config.method() != AdapterMethod.MOR) {
            return this;
        }
        Map<String, AdapterLayer> formed = new LinkedHashMap<>();
        layers.forEach((module, l) -> formed.put(module, AdapterLayers.create(config, l.prefix(), l.base(), form)));
        return new LlamaAdapters(config, formed, weights, form);
    }

    /** How MoR adapters compute their sum over experts ({@link MorForm#EXPANDED} unless chosen otherwise). */
    public MorForm morForm() {
        return morForm;
    }

    /** A graph of the model with these adapters spliced in, built for {@code kind}. */
    public LlamaGraph graph(LlamaWeights model, GraphKind kind) {
        return LlamaGraph.build(model, layers, weights, kind);
    }

    public AdapterConfig config() {
        return config;
    }

    /** Adapter layers by the module name they replace. */
    public Map<String, AdapterLayer> layers() {
        return layers;
    }

    /** The weights by PEFT key; training updates these arrays in place. */
    public Map<String, INDArray> weights() {
        return weights;
    }

    /** Number of trainable adapter parameters. */
    public long trainableParameters() {
        return weights.values().stream().mapToLong(INDArray::length).sum();
    }

    /** Writes the adapter directory in PEFT's layout. */
    public void save(Path dir, String baseModel) {
        AdapterFiles.save(dir, config.withBaseModel(baseModel), weights);
    }
}
