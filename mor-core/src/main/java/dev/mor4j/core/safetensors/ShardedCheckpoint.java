package dev.mor4j.core.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.core.MorException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The weights of a Hugging Face model directory, in one safetensors file or split into shards.
 *
 * <p>{@link #open(Path)} accepts, in this order of preference (the order {@code transformers} uses):
 * <ol>
 *   <li>a directory with {@code model.safetensors};</li>
 *   <li>a directory with {@code model.safetensors.index.json}, whose {@code weight_map} maps each tensor key to
 *       the shard file (relative to the directory) that holds it;</li>
 *   <li>a directory with exactly one other {@code *.safetensors} file;</li>
 *   <li>a {@code .safetensors} file, or an {@code *.index.json} file, named directly.</li>
 * </ol>
 * Everything is checked on opening: every shard the index names must exist and be a valid safetensors file,
 * and must hold every key the index assigns to it. Tensors a shard holds beyond those the index lists are
 * not exposed. {@link #close()} closes all shards.
 */
public final class ShardedCheckpoint implements TensorSource {

    /** The single-file weights name. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The shard index name. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final String where;
    private final Path index;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> owners;
    private final List<String> keys;

    private ShardedCheckpoint(String where, Path index, List<SafetensorsFile> shards,
                              Map<String, SafetensorsFile> owners) {
        this.where = where;
        this.index = index;
        this.shards = List.copyOf(shards);
        this.owners = Collections.unmodifiableMap(owners);
        this.keys = List.copyOf(owners.keySet());
    }

    /**
     * Opens a model directory (or a single safetensors file, or an index file) as described above.
     *
     * @throws MorException naming the directory or file, the key and shard concerned, and what was expected
     */
    public static ShardedCheckpoint open(Path path) {
        if (Files.isDirectory(path)) {
            Path single = path.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) {
                return single(single);
            }
            Path index = path.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) {
                return fromIndex(index);
            }
            List<Path> found = safetensorsIn(path);
            if (found.size() == 1) {
                return single(found.get(0));
            }
            if (found.isEmpty()) {
                throw new MorException(path + ": no safetensors weights in this directory; expected " + SINGLE_FILE
                        + ", or " + INDEX_FILE + " with its shards, or a single *.safetensors file");
            }
            List<String> names = new ArrayList<>();
            for (Path p : found) {
                names.add(p.getFileName().toString());
            }
            throw new MorException(path + ": " + found.size() + " .safetensors files " + names + " but no "
                    + INDEX_FILE + " saying which tensors each holds; expected " + SINGLE_FILE
                    + ", an index, or a single *.safetensors file");
        }
        if (Files.isRegularFile(path)) {
            return path.getFileName().toString().endsWith(".index.json") ? fromIndex(path) : single(path);
        }
        throw new MorException(path + ": no such file or directory; expected a model directory with "
                + SINGLE_FILE + " or " + INDEX_FILE);
    }

    private static ShardedCheckpoint single(Path file) {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> owners = new LinkedHashMap<>();
        for (String k : f.keys()) {
            owners.put(k, f);
        }
        return new ShardedCheckpoint(file.toString(), null, List.of(f), owners);
    }

    private static List<Path> safetensorsIn(Path dir) {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.safetensors")) {
            for (Path p : ds) {
                if (Files.isRegularFile(p)) {
                    found.add(p);
                }
            }
        } catch (IOException e) {
            throw new MorException(dir + ": cannot list the directory: " + e.getMessage(), e);
        }
        Collections.sort(found);
        return found;
    }

    private static ShardedCheckpoint fromIndex(Path indexFile) {
        String where = indexFile.toString();
        Path dir = indexFile.toAbsolutePath().getParent();
        JsonNode weightMap = readWeightMap(indexFile);

        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        Map<String, SafetensorsFile> owners = new LinkedHashMap<>();
        boolean ok = false;
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String key = e.getKey();
                JsonNode v = e.getValue();
                if (!v.isTextual() || v.textValue().isEmpty()) {
                    throw new MorException(where + ": key '" + key + "': weight_map value is "
                            + SafetensorsFile.kind(v) + "; expected a shard file name");
                }
                String shardName = v.textValue();
                SafetensorsFile shard = byName.get(shardName);
                if (shard == null) {
                    shard = SafetensorsFile.open(resolveShard(where, dir, key, shardName));
                    byName.put(shardName, shard);
                }
                if (!shard.contains(key)) {
                    throw new MorException(where + ": key '" + key + "' is mapped to shard '" + shardName
                            + "', but that shard has no such tensor (it holds " + shard.size() + " tensors"
                            + SafetensorsFile.suggestion(key, shard.keys()) + ")");
                }
                owners.put(key, shard);
            }
            ShardedCheckpoint checkpoint =
                    new ShardedCheckpoint(dir.toString(), indexFile, new ArrayList<>(byName.values()), owners);
            ok = true;
            return checkpoint;
        } finally {
            if (!ok) {
                byName.values().forEach(SafetensorsFile::close);
            }
        }
    }

    private static JsonNode readWeightMap(Path indexFile) {
        String where = indexFile.toString();
        String text;
        try {
            text = Files.readString(indexFile);
        } catch (CharacterCodingException e) {
            throw new MorException(where + ": not valid UTF-8; expected a JSON shard index");
        } catch (IOException e) {
            throw new MorException(where + ": cannot read: " + e.getMessage(), e);
        }
        JsonNode root;
        try {
            root = SafetensorsFile.JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new MorException(where + ": not valid JSON (" + e.getOriginalMessage()
                    + "); expected a shard index with a \"weight_map\" object", e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new MorException(where + ": key 'weight_map': "
                    + (weightMap == null ? "missing" : "is " + SafetensorsFile.kind(weightMap))
                    + "; expected an object mapping tensor keys to shard file names");
        }
        if (weightMap.isEmpty()) {
            throw new MorException(where + ": key 'weight_map': is empty; expected at least one tensor key");
        }
        return weightMap;
    }

    private static Path resolveShard(String where, Path dir, String key, String shardName) {
        Path shard;
        try {
            shard = dir.resolve(shardName).normalize();
        } catch (InvalidPathException e) {
            throw new MorException(where + ": key '" + key + "': shard name '" + shardName
                    + "' is not a valid file name");
        }
        if (!shard.startsWith(dir.normalize())) {
            throw new MorException(where + ": key '" + key + "': shard '" + shardName + "' lies outside " + dir
                    + "; expected a file in the checkpoint directory");
        }
        if (!Files.isRegularFile(shard)) {
            throw new MorException(where + ": key '" + key + "' is mapped to shard '" + shardName
                    + "', which does not exist in " + dir);
        }
        return shard;
    }

    // ------------------------------------------------------------------ accessors

    /** The checkpoint directory (for an index) or the safetensors file (for a single file). */
    @Override
    public String description() {
        return where;
    }

    /** The index file, or null when the weights are one file. */
    public Path indexFile() {
        return index;
    }

    /** The safetensors files, in the order the index first names them. */
    public List<Path> shardFiles() {
        List<Path> out = new ArrayList<>();
        for (SafetensorsFile f : shards) {
            out.add(f.path());
        }
        return out;
    }

    /**
     * The tensor keys: in {@code weight_map} order for an index ({@code transformers} writes it sorted), else in
     * the file's header order.
     */
    @Override
    public List<String> keys() {
        return keys;
    }

    @Override
    public boolean contains(String key) {
        return owners.containsKey(key);
    }

    /** The file holding a tensor. */
    public Path shardOf(String key) {
        return owner(key).path();
    }

    @Override
    public TensorInfo info(String key) {
        return owner(key).info(key);
    }

    @Override
    public INDArray getFloat(String key) {
        return owner(key).getFloat(key);
    }

    @Override
    public INDArray getStored(String key) {
        return owner(key).getStored(key);
    }

    @Override
    public INDArray getLong(String key) {
        return owner(key).getLong(key);
    }

    @Override
    public float[] floatData(String key) {
        return owner(key).floatData(key);
    }

    @Override
    public long[] longData(String key) {
        return owner(key).longData(key);
    }

    private SafetensorsFile owner(String key) {
        SafetensorsFile f = owners.get(key);
        if (f == null) {
            throw new MorException(where + ": no tensor with key '" + key + "' (the checkpoint holds "
                    + owners.size() + " tensors in " + shards.size() + (shards.size() == 1 ? " file" : " shards")
                    + SafetensorsFile.suggestion(key, keys) + ")");
        }
        return f;
    }

    @Override
    public void close() {
        for (SafetensorsFile f : shards) {
            f.close();
        }
    }

    @Override
    public String toString() {
        return "ShardedCheckpoint[" + where + ", " + owners.size() + " tensors, " + shards.size() + " files]";
    }
}
