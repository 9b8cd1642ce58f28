package dev.mor4j.llama;

import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.llama.model.Batch;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Paths of the bundled fixtures and helpers to compare against their golden numbers. */
public final class TestData {

    private TestData() {
    }

    public static Path root() {
        String p = System.getProperty("mor.testdata");
        return p != null ? Path.of(p) : Path.of("..", "testdata");
    }

    public static Path model(String name) {
        return root().resolve("models").resolve(name);
    }

    public static Path goldens(String file) {
        return root().resolve("goldens").resolve(file);
    }

    /** The golden batch (input_ids, attention_mask, labels) of a golden file. */
    public static Batch batch(SafetensorsFile g) {
        return new Batch(rows(g.getLong("input_ids")), rows(g.getLong("attention_mask")), rows(g.getLong("labels")));
    }

    /** The batch of {@code goldens-base-mor.safetensors}, the one the base and MoR goldens were computed on. */
    public static Batch goldenBatch() {
        try (SafetensorsFile g = SafetensorsFile.open(goldens("goldens-base-mor.safetensors"))) {
            return batch(g);
        }
    }

    private static long[][] rows(INDArray a) {
        return a.toLongMatrix();
    }

    /** max |a − b| over all entries, in double. */
    public static double maxAbsDiff(INDArray a, INDArray b) {
        if (!java.util.Arrays.equals(a.shape(), b.shape())) {
            throw new AssertionError("shapes differ: " + java.util.Arrays.toString(a.shape()) + " vs "
                    + java.util.Arrays.toString(b.shape()));
        }
        INDArray d = a.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                .sub(b.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE));
        return Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.reduce.same.AMax(d)).getDouble(0);
    }
}
