package dev.mor4j.core.safetensors;

import dev.mor4j.core.MorException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a model's weights into a directory as {@code transformers}' {@code save_pretrained} does: one
 * {@code model.safetensors} when everything fits in one shard, else shards of at most a given size
 * ({@link ShardPlan}) with {@code model.safetensors.index.json}. Every file carries the metadata
 * {@code {"format": "pt"}} that transformers writes.
 *
 * <p>Streaming: the split is decided from the tensors' sizes before any data exists, then each tensor's values
 * are asked for once, when its turn comes, converted to its dtype in 1 MiB chunks and written; memory use does
 * not grow with the checkpoint.
 *
 * <p>All-or-nothing: every file is first written under a temporary name in the directory and flushed to disk;
 * only when all are complete are they renamed to their names, the index last. If anything fails, the temporary
 * files (and any file already renamed) are removed, so a failed write leaves no partial checkpoint.
 */
public final class ShardedCheckpointWriter {

    /** transformers' default {@code max_shard_size="5GB"}: 5 × 10^9 bytes. */
    public static final long DEFAULT_MAX_SHARD_SIZE = 5_000_000_000L;

    /** The safetensors metadata transformers writes into every weights file. */
    public static final Map<String, String> PT_METADATA = Map.of("format", "pt");

    private static final Pattern WEIGHT_FILE =
            Pattern.compile("model\\.safetensors(\\.index\\.json)?|model-\\d{5}-of-\\d{5}\\.safetensors");
    private static final Pattern SIZE =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]i?b)?", Pattern.CASE_INSENSITIVE);

    private ShardedCheckpointWriter() {
    }

    /**
     * Writes the tensors into {@code dir}.
     *
     * @param dir          an existing directory that holds no weights yet (no {@code model.safetensors}, index
     *                     or {@code model-*-of-*.safetensors}); other files in it are left alone
     * @param tensors      what to write, in the model's {@code state_dict()} order (it decides the split)
     * @param values       each tensor's values, of its spec's shape; asked for once, shard by shard
     * @param maxShardSize the most data bytes per shard, e.g. {@link #DEFAULT_MAX_SHARD_SIZE}
     * @return the split that was written
     * @throws MorException naming the directory, file or key concerned if anything cannot be written
     */
    public static ShardPlan write(Path dir, List<TensorSpec> tensors, Function<TensorSpec, TensorValues> values,
                                  long maxShardSize) {
        Path target = checkDirectory(dir);
        ShardPlan plan;
        try {
            plan = ShardPlan.of(tensors, maxShardSize);
        } catch (MorException e) {
            throw new MorException(dir + ": " + e.getMessage(), e);
        }
        List<Path> temps = new ArrayList<>();
        List<Path> finals = new ArrayList<>();
        int renamed = 0;
        try {
            for (ShardPlan.Shard s : plan.shards()) {
                Path file = target.resolve(s.fileName());
                temps.add(SafetensorsWriter.writeTemp(file, s.tensors(), values, PT_METADATA));
                finals.add(file);
            }
            if (plan.isSharded()) {
                Path index = target.resolve(ShardedCheckpoint.INDEX_FILE);
                temps.add(writeTextTemp(index, plan.indexJson()));
                finals.add(index);
            }
            for (; renamed < temps.size(); renamed++) {
                AtomicFiles.commit(temps.get(renamed), finals.get(renamed));
            }
            return plan;
        } finally {
            if (renamed < temps.size()) {
                temps.forEach(AtomicFiles::deleteQuietly);
                finals.subList(0, renamed).forEach(AtomicFiles::deleteQuietly);
            }
        }
    }

    private static Path checkDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new MorException(dir + ": no such directory; expected an existing directory to write the"
                    + " checkpoint into");
        }
        List<String> existing = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (WEIGHT_FILE.matcher(p.getFileName().toString()).matches()) {
                    existing.add(p.getFileName().toString());
                }
            }
        } catch (IOException e) {
            throw new MorException(dir + ": cannot list the directory: " + e.getMessage(), e);
        }
        if (!existing.isEmpty()) {
            existing.sort(null);
            throw new MorException(dir + ": already holds checkpoint weights " + existing
                    + "; expected a directory without model*.safetensors files (choose a new one)");
        }
        return dir.toAbsolutePath();
    }

    private static Path writeTextTemp(Path target, String text) {
        Path temp = null;
        boolean done = false;
        try {
            temp = AtomicFiles.createTemp(target.getParent(), target.getFileName().toString());
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                TensorDataWriter.writeFully(ch, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
                ch.force(true);
            }
            done = true;
            return temp;
        } catch (IOException e) {
            throw new MorException(target + ": cannot write: " + e.getMessage(), e);
        } finally {
            if (!done) {
                AtomicFiles.deleteQuietly(temp);
            }
        }
    }

    /**
     * A size as transformers' {@code max_shard_size} takes it: bytes ({@code 1000000}) or a number with a
     * decimal unit {@code KB, MB, GB, TB} (powers of 1000: {@code 5GB} = 5 × 10^9) or a binary one
     * {@code KiB, MiB, GiB, TiB} (powers of 1024); units are case-insensitive, fractions allowed ({@code 1.5GB}).
     *
     * @throws MorException quoting the text if it is not such a size or is not positive
     */
    public static long parseSize(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new MorException("size '" + text + "': expected bytes or a number with a unit (KB, MB, GB, TB,"
                    + " KiB, MiB, GiB, TiB), e.g. 5GB or 500MB");
        }
        String unit = m.group(2) == null ? "" : m.group(2).toLowerCase(Locale.ROOT);
        if (unit.isEmpty() && m.group(1).indexOf('.') < 0 && m.group(1).length() < 19) {
            long bytes = Long.parseLong(m.group(1));
            if (bytes < 1) {
                throw new MorException("size '" + text + "': less than one byte; expected a positive size such as 5GB");
            }
            return bytes;
        }
        double scale = switch (unit) {
            case "" -> 1;
            case "kb" -> 1e3;
            case "mb" -> 1e6;
            case "gb" -> 1e9;
            case "tb" -> 1e12;
            case "kib" -> 0x1p10;
            case "mib" -> 0x1p20;
            case "gib" -> 0x1p30;
            case "tib" -> 0x1p40;
            default -> throw new AssertionError(unit);
        };
        double bytes = Double.parseDouble(m.group(1)) * scale;
        if (bytes < 1 || bytes >= 0x1p63) {
            throw new MorException("size '" + text + "': " + (bytes < 1 ? "less than one byte" : "too large")
                    + "; expected a positive size such as 5GB");
        }
        return (long) bytes;
    }
}
