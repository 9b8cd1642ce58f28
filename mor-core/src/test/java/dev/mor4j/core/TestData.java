package dev.mor4j.core;

import java.nio.file.Path;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The tests' one way to the bundled fixtures ({@code testdata/}) and to compare arrays, shared by every module's
 * tests through mor-core's test jar ({@code <type>test-jar</type>}, scope test).
 *
 * <p>The fixtures' directory is the system property {@code mor.testdata} (set by the build for every module), or
 * {@code ../testdata} from a module's directory when a test runs without it.
 */
public final class TestData {

    private TestData() {
    }

    /** The fixtures' directory. */
    public static Path root() {
        String p = System.getProperty("mor.testdata");
        return p != null ? Path.of(p) : Path.of("..", "testdata");
    }

    /** A bundled model directory, e.g. {@code tiny-llama-f32}. */
    public static Path model(String name) {
        return root().resolve("models").resolve(name);
    }

    /** A bundled tokenizer directory, e.g. {@code sp-bpe-32k}. */
    public static Path tokenizer(String name) {
        return root().resolve("tokenizers").resolve(name);
    }

    /** A golden file, e.g. {@code goldens-base-mor.safetensors}. */
    public static Path goldens(String file) {
        return root().resolve("goldens").resolve(file);
    }

    /** {@code max |a − b|} over all entries, in float64; the shapes must be equal. */
    public static double maxAbsDiff(INDArray a, INDArray b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new AssertionError("shapes differ: " + Arrays.toString(a.shape()) + " vs "
                    + Arrays.toString(b.shape()));
        }
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }

    /** {@code max |a − b|} over all entries, in float64; the lengths must be equal. */
    public static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs((double) a[i] - b[i]));
        }
        return worst;
    }

    /** {@code max |a − b|} over all entries; the lengths must be equal. */
    public static double maxAbsDiff(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    /**
     * Fails unless {@code actual} has {@code expected}'s shape and every entry within {@code tolerance} of it.
     *
     * @param what names the compared arrays in the failure message
     */
    public static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        double d = maxAbsDiff(expected, actual);
        if (!(d <= tolerance)) {
            throw new AssertionError(what + ": max |Δ| " + d + " > " + tolerance);
        }
    }
}
