package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.BadLine;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.EncodeStats;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.ReadSummary;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.data.TuluReader;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The training examples of a Tulu-v2 JSONL file, as the commands that train ({@code finetune}, {@code make-base})
 * read it: every conversation encoded with the chat template and cut to the maximum length (the loss on the
 * assistant turns, {@link TuluEncoder}), bad lines reported once each on standard error (or, when strict, stopping
 * the read), and one line saying what was read and kept.
 */
final class TuluExamples {

    /** Whether a bad line is skipped (and reported) or stops the read. */
    enum BadLines { SKIP, STOP }

    /** Checks each conversation as it is read; throws a {@link MorException} naming the line to refuse it. */
    @FunctionalInterface
    interface ConversationCheck {
        /** No check. */
        ConversationCheck NONE = (c, file, line) -> { };

        void check(Conversation c, Path file, long line);
    }

    private TuluExamples() {
    }

    /**
     * Reads and encodes {@code file}, printing the bad lines skipped and a summary to {@code err}.
     *
     * @param check told every conversation with its line before it is encoded
     * @return the examples kept, in file order
     * @throws MorException naming the file when nothing is left to train on (or the first bad line with
     *                      {@link BadLines#STOP})
     */
    static List<EncodedExample> read(Path file, Tokenizer tok, int maxLen, BadLines badLines, ConversationCheck check,
            PrintStream err) {
        TuluEncoder encoder = new TuluEncoder(tok, maxLen);
        EncodeStats stats = new EncodeStats();
        AtomicLong bad = new AtomicLong();
        List<EncodedExample> examples;
        ReadSummary summary;
        try (TuluReader reader = badLines == BadLines.STOP ? TuluReader.openStrict(file)
                : TuluReader.open(file, (BadLine b) -> {
                    bad.incrementAndGet();
                    err.println("skipping " + b);
                })) {
            examples = encoder.encodeAll(reader.stream().map(c -> {
                check.check(c, file, reader.line()); // the line of c: the stream reads no further yet
                return c;
            }), stats).toList();
            summary = reader.summary();
        }
        err.printf(Locale.ROOT, "data: %d conversations from %d lines, %d bad lines skipped; %d examples kept"
                        + " (%d truncated to %d tokens, %d dropped with no answer token left), %,d answer tokens%n",
                summary.conversations(), summary.lines(), bad.get(), stats.kept(), stats.truncated(), maxLen,
                stats.droppedWithoutTrainableTokens(), stats.trainableTokens());
        if (examples.isEmpty()) {
            throw new MorException(file + ": nothing to train on: " + summary.lines() + " lines, " + bad.get()
                    + " bad, " + stats.droppedWithoutTrainableTokens() + " with no answer token within --max-len "
                    + maxLen);
        }
        return examples;
    }
}
