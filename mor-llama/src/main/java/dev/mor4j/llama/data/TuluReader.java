package dev.mor4j.llama.data;

import dev.mor4j.core.MorException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Streams the conversations of a Tulu-v2 SFT JSONL file, one line at a time (the file is never held in memory).
 *
 * <p>A line that is not a usable conversation (not JSON or truncated, no {@code messages} or an empty list, an
 * unknown role, a non-string content, no assistant turn, a blank line; see {@link TuluLineParser}) is a
 * {@link BadLine}. By default it is reported once to the {@code onBadLine} callback and skipped, and counted in
 * {@link #summary()}; in strict mode the first one stops reading with a {@link MorException} saying
 * {@code FILE:LINE: reason}. A file that cannot be read or is not UTF-8 is always an error.
 *
 * <p>Use in try-with-resources, or close the {@link #stream()}. Not thread-safe.
 */
public final class TuluReader implements Iterator<Conversation>, Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(TuluReader.class);

    /** Reports each bad line as a warning in the log. */
    public static final Consumer<BadLine> LOG_BAD_LINES = bad -> LOG.warn("skipping bad line {}", bad);

    private final Path path;
    private final BufferedReader reader;
    private final boolean strict;
    private final Consumer<BadLine> onBadLine;
    private Conversation next;
    private long nextLine; // the line of next
    private long returnedLine; // the line of the conversation last returned by next()
    private boolean done;
    private MorException failure;
    private long lines;
    private long conversations;
    private long badLines;

    private TuluReader(Path path, boolean strict, Consumer<BadLine> onBadLine) {
        this.path = path;
        this.strict = strict;
        this.onBadLine = onBadLine;
        try {
            this.reader = Files.newBufferedReader(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new MorException(path + ": cannot open: " + e.getMessage(), e);
        }
    }

    /** Opens a file, skipping bad lines and logging each one as a warning. */
    public static TuluReader open(Path path) {
        return new TuluReader(path, false, LOG_BAD_LINES);
    }

    /** Opens a file, skipping bad lines and passing each one to {@code onBadLine}. */
    public static TuluReader open(Path path, Consumer<BadLine> onBadLine) {
        return new TuluReader(path, false, onBadLine);
    }

    /** Opens a file that must have no bad line: the first one throws a {@link MorException}. */
    public static TuluReader openStrict(Path path) {
        return new TuluReader(path, true, bad -> {
        });
    }

    /**
     * Reads a whole file into a list, skipping bad lines (for small files and tests).
     *
     * @param badLines receives the bad lines, in file order
     */
    public static List<Conversation> readAll(Path path, List<BadLine> badLines) {
        try (TuluReader r = open(path, badLines::add)) {
            List<Conversation> out = new ArrayList<>();
            r.forEachRemaining(out::add);
            return out;
        }
    }

    @Override
    public boolean hasNext() {
        if (failure != null) {
            throw failure; // a failed reader does not pretend to have reached the end
        }
        while (next == null && !done) {
            String line = readLine();
            if (line == null) {
                done = true;
                close();
                break;
            }
            lines++;
            try {
                next = TuluLineParser.parse(line);
                nextLine = lines;
            } catch (TuluLineParser.Defect defect) {
                BadLine bad = new BadLine(path, lines, defect.getMessage());
                if (strict) {
                    throw fail(new MorException(bad.toString()));
                }
                badLines++;
                onBadLine.accept(bad);
            }
        }
        return next != null;
    }

    @Override
    public Conversation next() {
        if (!hasNext()) {
            throw new NoSuchElementException(path + ": no more conversations");
        }
        Conversation c = next;
        next = null;
        returnedLine = nextLine;
        conversations++;
        return c;
    }

    /** The remaining conversations as a stream; closing the stream closes the file. */
    public Stream<Conversation> stream() {
        Spliterator<Conversation> split = Spliterators.spliteratorUnknownSize(this,
                Spliterator.ORDERED | Spliterator.NONNULL);
        return StreamSupport.stream(split, false).onClose(this::close);
    }

    /**
     * The line (counting from 1) of the conversation last returned by {@link #next()}, e.g. to name it in an error
     * as {@code FILE:LINE}; 0 before the first.
     */
    public long line() {
        return returnedLine;
    }

    /** Counts so far. */
    public ReadSummary summary() {
        return new ReadSummary(lines, conversations, badLines);
    }

    /** The file being read. */
    public Path path() {
        return path;
    }

    @Override
    public void close() {
        try {
            reader.close();
        } catch (IOException e) {
            throw new MorException(path + ": cannot close: " + e.getMessage(), e);
        }
    }

    private String readLine() {
        try {
            return reader.readLine();
        } catch (CharacterCodingException e) {
            throw fail(new MorException(path + ":" + (lines + 1) + ": not valid UTF-8", e));
        } catch (IOException e) {
            throw fail(new MorException(path + ":" + (lines + 1) + ": cannot read: " + e.getMessage(), e));
        }
    }

    private MorException fail(MorException error) {
        failure = error;
        done = true;
        try {
            reader.close();
        } catch (IOException suppressed) {
            error.addSuppressed(suppressed);
        }
        return error;
    }
}
