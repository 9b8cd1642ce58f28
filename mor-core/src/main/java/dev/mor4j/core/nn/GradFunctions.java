package dev.mor4j.core.nn;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Creates a SameDiff graph's gradient function without writing to standard output.
 *
 * <p>SameDiff M2.1's {@code createGradFunction} prints one line, "Added differentiated op …", for every op it
 * differentiates, with {@code System.out.println} (not through a logger, so no logging configuration silences
 * it): hundreds of lines for a LLaMA graph. A library must leave standard output to its caller, so the library
 * creates gradient functions here: while SameDiff builds one, {@code System.out} is a filter that drops those lines
 * and passes every other line to the stream it replaced, which is put back afterwards. Other threads' lines written
 * meanwhile therefore still arrive, only held until their newline.
 */
public final class GradFunctions {

    /** The start of the lines SameDiff prints while creating a gradient function. */
    static final String NOISE = "Added differentiated op ";
    private static final Object LOCK = new Object();

    private GradFunctions() {
    }

    /**
     * {@code sd.createGradFunction(placeholders)}, with SameDiff's lines kept off standard output.
     *
     * @param placeholders placeholders whose gradients the function should also compute
     */
    public static void create(SameDiff sd, String... placeholders) {
        synchronized (LOCK) {
            PrintStream original = System.out;
            LineFilter filter = new LineFilter(original);
            PrintStream filtered = new PrintStream(filter, true, StandardCharsets.UTF_8);
            System.setOut(filtered);
            try {
                sd.createGradFunction(placeholders);
            } finally {
                filtered.flush();
                filter.release();
                if (System.out == filtered) {
                    System.setOut(original);
                }
            }
        }
    }

    /** Passes whole lines to {@code target}, except those that start with {@link #NOISE}. */
    private static final class LineFilter extends OutputStream {

        private final PrintStream target;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineFilter(PrintStream target) {
            this.target = target;
        }

        @Override
        public synchronized void write(int b) {
            line.write(b);
            if (b == '\n') {
                String s = line.toString(StandardCharsets.UTF_8);
                line.reset();
                if (!s.startsWith(NOISE)) {
                    target.print(s);
                    target.flush();
                }
            }
        }

        /** Hands a held partial line (one without its newline yet) to the target. */
        synchronized void release() {
            if (line.size() > 0) {
                target.print(line.toString(StandardCharsets.UTF_8));
                line.reset();
            }
            target.flush();
        }
    }
}
