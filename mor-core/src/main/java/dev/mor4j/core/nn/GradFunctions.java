package dev.mor4j.core.nn;

import java.util.ArrayList;
import java.util.Map;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;

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
 *
 * <p>M2.1's gradient function is a copy of the graph that leaves out its control dependencies (an op made to wait
 * for a variable, {@code SDVariable.addControlDependency}): every op of a training pass would run as soon as its
 * inputs exist, e.g. every frozen weight's widening at the start. {@link #create} copies them into the gradient
 * function, ops' and variables' alike, so that a training pass runs in the order the graph asks for.
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
                copyControlDependencies(sd, sd.getFunction("grad"));
            } finally {
                filtered.flush();
                filter.release();
                if (System.out == filtered) {
                    System.setOut(original);
                }
            }
        }
    }

    /** Gives the ops and variables of {@code grad} the control dependencies they have in {@code sd}. */
    static void copyControlDependencies(SameDiff sd, SameDiff grad) {
        for (Map.Entry<String, SameDiffOp> e : sd.getOps().entrySet()) {
            SameDiffOp copy = grad.getOps().get(e.getKey());
            if (copy != null && e.getValue().getControlDeps() != null) {
                copy.setControlDeps(new ArrayList<>(e.getValue().getControlDeps()));
            }
            if (copy != null && e.getValue().getVarControlDeps() != null) {
                copy.setVarControlDeps(new ArrayList<>(e.getValue().getVarControlDeps()));
            }
        }
        for (Map.Entry<String, Variable> e : sd.getVariables().entrySet()) {
            Variable v = e.getValue();
            Variable copy = grad.getVariables().get(e.getKey());
            if (copy == null) {
                continue;
            }
            if (v.getControlDeps() != null) {
                copy.setControlDeps(new ArrayList<>(v.getControlDeps()));
            }
            if (v.getControlDepsForOp() != null) {
                copy.setControlDepsForOp(new ArrayList<>(v.getControlDepsForOp()));
            }
            if (v.getControlDepsForVar() != null) {
                copy.setControlDepsForVar(new ArrayList<>(v.getControlDepsForVar()));
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
