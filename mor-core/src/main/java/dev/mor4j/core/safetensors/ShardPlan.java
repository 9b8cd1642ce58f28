package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How a checkpoint's tensors are split into safetensors files, decided from their sizes alone, by the rule
 * {@code transformers}' {@code save_pretrained} uses (huggingface_hub's {@code split_state_dict_into_shards}):
 * tensors are taken in the given order (a model's {@code state_dict()} order); a tensor larger than the limit
 * gets a shard of its own at once; otherwise, when adding it to the shard being filled would exceed the limit,
 * that shard is closed and a new one started. The shard being filled at the end comes last. Sizes are data
 * bytes (elements × dtype size), headers not counted.
 *
 * <p>One shard is named {@code model.safetensors} and needs no index; {@code n > 1} shards are named
 * {@code model-00001-of-0000n.safetensors} and listed in {@code model.safetensors.index.json}
 * ({@link #indexJson()}).
 */
public final class ShardPlan {

    /**
     * One file of the checkpoint.
     *
     * @param fileName  its name in the checkpoint directory
     * @param tensors   the tensors it holds, in the given order (the file lays them out by dtype and key)
     * @param byteSize  the sum of their data bytes
     */
    public record Shard(String fileName, List<TensorSpec> tensors, long byteSize) {
        public Shard {
            tensors = List.copyOf(tensors);
        }
    }

    private final List<Shard> shards;
    private final long totalSize;
    private final long totalParameters;

    private ShardPlan(List<Shard> shards, long totalSize, long totalParameters) {
        this.shards = List.copyOf(shards);
        this.totalSize = totalSize;
        this.totalParameters = totalParameters;
    }

    /**
     * Splits {@code tensors} into shards of at most {@code maxShardSize} data bytes (a single tensor larger than
     * that gets a shard of its own).
     *
     * @throws MorException if there are no tensors, a key repeats, or the limit is not positive
     */
    public static ShardPlan of(List<TensorSpec> tensors, long maxShardSize) {
        if (maxShardSize <= 0) {
            throw new MorException("max shard size " + maxShardSize + " bytes; expected a positive size");
        }
        if (tensors == null || tensors.isEmpty()) {
            throw new MorException("no tensors to write; expected at least one");
        }
        SafetensorsWriter.layout("checkpoint", tensors); // null and repeated keys
        List<List<TensorSpec>> groups = new ArrayList<>();
        List<TensorSpec> current = new ArrayList<>();
        long currentSize = 0;
        long total = 0;
        long parameters = 0;
        for (TensorSpec t : tensors) {
            long size = t.byteLength();
            total += size;
            parameters += t.numel();
            if (size > maxShardSize) {
                groups.add(List.of(t));
                continue;
            }
            if (currentSize + size > maxShardSize) {
                groups.add(current);
                current = new ArrayList<>();
                currentSize = 0;
            }
            current.add(t);
            currentSize += size;
        }
        if (!current.isEmpty()) {
            groups.add(current);
        }
        List<Shard> shards = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            long bytes = groups.get(i).stream().mapToLong(TensorSpec::byteLength).sum();
            shards.add(new Shard(fileName(i, groups.size()), groups.get(i), bytes));
        }
        return new ShardPlan(shards, total, parameters);
    }

    /** {@code model.safetensors} for a single file, else {@code model-00001-of-00003.safetensors} and so on. */
    static String fileName(int index, int count) {
        return count == 1 ? ShardedCheckpoint.SINGLE_FILE
                : String.format("model-%05d-of-%05d.safetensors", index + 1, count);
    }

    /** The files, in order. */
    public List<Shard> shards() {
        return shards;
    }

    /** Whether there is more than one file, and so an index. */
    public boolean isSharded() {
        return shards.size() > 1;
    }

    /** The data bytes of all tensors ({@code metadata.total_size} of the index). */
    public long totalSize() {
        return totalSize;
    }

    /** The elements of all tensors ({@code metadata.total_parameters} of the index). */
    public long totalParameters() {
        return totalParameters;
    }

    /** Tensor key → file name, sorted by key in code point order. */
    public Map<String, String> weightMap() {
        Map<String, String> map = new TreeMap<>(SafetensorsWriter::compareCodePoints);
        for (Shard s : shards) {
            for (TensorSpec t : s.tensors()) {
                map.put(t.key(), s.fileName());
            }
        }
        return map;
    }

    /**
     * The text of {@code model.safetensors.index.json} as {@code transformers} writes it:
     * {@code {"metadata": {"total_parameters": P, "total_size": N}, "weight_map": {key: file}}} as Python's
     * {@code json.dumps(index, indent=2, sort_keys=True)} formats it (non-ASCII escaped), plus a newline.
     */
    public String indexJson() {
        StringBuilder b = new StringBuilder();
        b.append("{\n  \"metadata\": {\n");
        b.append("    \"total_parameters\": ").append(totalParameters).append(",\n");
        b.append("    \"total_size\": ").append(totalSize).append("\n  },\n");
        b.append("  \"weight_map\": {\n");
        boolean first = true;
        for (Map.Entry<String, String> e : weightMap().entrySet()) {
            b.append(first ? "" : ",\n").append("    ");
            pythonString(b, e.getKey());
            b.append(": ");
            pythonString(b, e.getValue());
            first = false;
        }
        b.append("\n  }\n}\n");
        return b.toString();
    }

    /** A JSON string as Python's {@code json.dumps} writes it with {@code ensure_ascii=True}. */
    static void pythonString(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7E) {
                        b.append(String.format("\\u%04x", (int) c)); // UTF-16 units: surrogate pairs as Python
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
