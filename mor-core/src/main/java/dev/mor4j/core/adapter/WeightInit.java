package dev.mor4j.core.adapter;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The initialisations adapters use, drawn from a caller's {@link Random} so that a seed reproduces them.
 *
 * <p>{@link #kaimingUniform} is what PyTorch's {@code nn.Linear} and PEFT's {@code lora_A} use:
 * {@code kaiming_uniform_(w, a=√5)}, whose bound {@code gain·√(3 / fan_in)} with
 * {@code gain = √(2 / (1 + a²))} simplifies to {@code 1 / √fan_in}.
 */
final class WeightInit {

    private WeightInit() {
    }

    /**
     * {@code U(−1/√fanIn, 1/√fanIn)}, PyTorch's default for a linear weight {@code [rows, fanIn]}.
     */
    static INDArray kaimingUniform(Random rng, DataType dataType, long rows, long fanIn) {
        double bound = 1.0 / Math.sqrt(fanIn);
        double[] v = new double[Math.toIntExact(rows * fanIn)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (2 * rng.nextDouble() - 1) * bound;
        }
        return Nd4j.create(v, new long[] {rows, fanIn}, dataType);
    }

    /** Independent {@code N(mean, std²)} entries. */
    static INDArray normal(Random rng, DataType dataType, double mean, double std, long... shape) {
        double[] v = new double[Math.toIntExact(count(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = mean + std * rng.nextGaussian();
        }
        return Nd4j.create(v, shape, dataType);
    }

    static INDArray zeros(DataType dataType, long... shape) {
        return Nd4j.zeros(dataType, shape);
    }

    static INDArray ones(DataType dataType, long... shape) {
        return Nd4j.ones(dataType, shape);
    }

    static long count(long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
