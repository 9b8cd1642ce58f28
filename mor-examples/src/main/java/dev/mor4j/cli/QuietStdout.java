package dev.mor4j.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * SameDiff M2.1 prints "Added differentiated op …" on standard output each time it builds a gradient
 * function. Commands write their results to standard output, so those lines are dropped here.
 */
final class QuietStdout extends OutputStream {

    private static final String NOISE = "Added differentiated op ";
    private static volatile boolean installed;

    private final PrintStream target;
    private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();

    private QuietStdout(PrintStream target) {
        this.target = target;
    }

    static synchronized void install() {
        if (!installed) {
            QuietStdout quiet = new QuietStdout(System.out);
            System.setOut(new PrintStream(quiet, true, StandardCharsets.UTF_8));
            Runtime.getRuntime().addShutdownHook(new Thread(quiet::close));
            installed = true;
        }
    }

    @Override
    public synchronized void write(int b) {
        bytes.write(b);
        if (b == '\n') {
            flushLine();
        }
    }

    @Override
    public synchronized void flush() {
        // Partial lines are held until their newline so that noise lines can be recognised whole.
        target.flush();
    }

    private void flushLine() {
        String s = bytes.toString(StandardCharsets.UTF_8);
        bytes.reset();
        if (!s.startsWith(NOISE)) {
            target.print(s);
            target.flush();
        }
    }

    @Override
    public synchronized void close() {
        if (bytes.size() > 0) {
            target.print(bytes.toString(StandardCharsets.UTF_8));
            bytes.reset();
        }
        target.flush();
    }
}
