package dev.mor4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.train.FineTuneResult;
import dev.mor4j.llama.train.LlamaFineTune;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * {@code pretraining/make_base.json} of a base model: how {@code mor make-base} pre-trained it and what came of it.
 * {@code settings} are the flags ({@link BaseModelSettings}), {@code train} and {@code options} the optimizer, schedule
 * and batching they made, {@code pretrain_sha256} identifies the corpus, and {@code loss_first} / {@code loss_last}
 * are the mean training loss of the first and last steps ({@code loss_window} of them); the per-step losses are in
 * {@code metrics.jsonl} beside it.
 */
final class BaseModelRecord {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BaseModelRecord() {
    }

    /** Writes the record to {@code file} (via a temporary file and a rename). */
    static void write(Path file, BaseModelSettings s, LlamaFineTune ft, FineTuneResult r, Path pretrain,
            double seconds, int lossWindow) {
        int n = Math.min(lossWindow, Math.max(1, r.steps().size() / 2));
        ObjectNode o = JSON.createObjectNode();
        o.put("run", BaseModelDirectory.KIND);
        o.set("settings", JSON.valueToTree(s));
        o.put("pretrain_file", pretrain.toAbsolutePath().normalize().toString());
        o.put("pretrain_sha256", sha256(pretrain));
        o.set("train", JSON.valueToTree(ft.config()));
        o.set("options", JSON.valueToTree(ft.options()));
        o.put("packing", ft.data().packing());
        o.put("examples", ft.data().examples().size());
        o.put("parameters", ft.parameterCount().trainable());
        o.put("steps", r.globalStep());
        o.put("epochs", (double) r.globalStep() / ft.data().batchesPerEpoch());
        o.put("real_tokens", r.tokens().real());
        o.put("loss_window", n);
        o.put("loss_first", r.meanLossOfFirst(n));
        o.put("loss_last", r.meanLossOfLast(n));
        o.put("seconds", seconds);
        try {
            AtomicFiles.writeJson(file, JSON, o);
        } catch (IOException e) {
            throw new MorException(file + ": cannot write the pre-training record: " + e.getMessage(), e);
        }
    }

    private static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int k; (k = in.read(buf)) > 0; ) {
                d.update(buf, 0, k);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (IOException e) {
            throw new MorException(file + ": cannot read: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }
}
