package dev.mor4j.spark;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The adapter weights of one optimizer step as the driver broadcasts them: float32 values in the adapters' key
 * order, row-major. Copying in and out is exact, so every executor computes with the driver's bits.
 *
 * @param values {@code [weights][elements]}: each weight's values, row-major
 */
record AdapterSnapshot(float[][] values) implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The current values of {@code weights} (FLOAT arrays), in the order of {@code names}. */
    static AdapterSnapshot of(Map<String, INDArray> weights, List<String> names) {
        float[][] v = new float[names.size()][];
        for (int i = 0; i < v.length; i++) {
            v[i] = weights.get(names.get(i)).dup('c').data().asFloat();
        }
        return new AdapterSnapshot(v);
    }

    /** Assigns the values into {@code arrays} (in place: the graph keeps reading the same arrays). */
    void assignTo(Map<String, INDArray> arrays, List<String> names) {
        for (int i = 0; i < values.length; i++) {
            INDArray a = arrays.get(names.get(i));
            a.assign(Nd4j.create(values[i], a.shape(), 'c'));
        }
    }

    /** The values' bytes: 4 per float32. */
    long bytes() {
        long n = 0;
        for (float[] v : values) {
            n += v.length;
        }
        return 4 * n;
    }
}
