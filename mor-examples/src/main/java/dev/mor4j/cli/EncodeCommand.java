package dev.mor4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.BadLine;
import dev.mor4j.llama.data.EncodeStats;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.data.TuluReader;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mor encode}: shows exactly what training sees for each Tulu-v2 conversation. */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = {"Encode Tulu-v2 JSONL the way training does (open-instruct's format).",
            "Writes one JSON object per line: {\"id\": …, \"input_ids\": […], \"labels\": […]}.",
            "Bad lines are skipped and reported on standard error (or stop the run with --strict)."})
final class EncodeCommand implements Callable<Integer> {

    @Option(names = "--tokenizer", required = true, description = "Directory holding tokenizer.json, or the file.")
    Path tokenizer;

    @Option(names = "--max-len", defaultValue = "1024", description = "Maximum sequence length (default: ${DEFAULT-VALUE}).")
    int maxLen;

    @Option(names = "--data", defaultValue = "/dev/stdin", description = "JSONL file (default: standard input).")
    Path data;

    @Option(names = "--strict", description = "Stop at the first bad line.")
    boolean strict;

    @Override
    public Integer call() {
        if (maxLen < 2) {
            throw new MorException("--max-len must be at least 2, got " + maxLen);
        }
        TuluEncoder encoder = new TuluEncoder(Tokenizer.load(tokenizer), maxLen);
        ObjectMapper json = new ObjectMapper();
        PrintStream out = System.out;
        PrintStream err = System.err;
        AtomicLong bad = new AtomicLong();
        EncodeStats stats = new EncodeStats();
        try (TuluReader reader = strict ? TuluReader.openStrict(data) : TuluReader.open(data, (BadLine b) -> {
            bad.incrementAndGet();
            err.println("skipping " + b);
        })) {
            encoder.encodeAll(reader.stream(), stats).forEach((EncodedExample e) -> {
                ObjectNode n = json.createObjectNode();
                n.put("id", e.id());
                var ids = n.putArray("input_ids");
                for (int id : e.inputIds()) {
                    ids.add(id);
                }
                var labels = n.putArray("labels");
                for (int l : e.labels()) {
                    labels.add(l);
                }
                out.println(n.toString());
            });
        }
        out.flush();
        err.printf("encoded %d conversations: %d kept, %d dropped (no trainable token after truncation), %d truncated; %d bad lines skipped%n",
                stats.encoded(), stats.kept(), stats.droppedWithoutTrainableTokens(), stats.truncated(), bad.get());
        if (stats.kept() == 0) {
            throw new MorException(data + ": no usable conversation (" + bad.get() + " bad lines, "
                    + stats.droppedWithoutTrainableTokens() + " without trainable tokens)");
        }
        return 0;
    }
}
