package dev.mor4j.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J's float32 GEMM speed on this machine for the LLaMA-2-7B up-projection product
 * {@code [T, 4096] × [4096, 11008]}, straight through {@code Nd4j.gemm} into a preallocated output: the ceiling
 * every projection in the graphs is measured against.
 */
public final class GemmThroughput {

    /** GFLOP/s of the median and of the fastest call, and the median milliseconds. */
    public record Result(int tokens, double medianMillis, double medianGflops, double bestGflops) {
    }

    private GemmThroughput() {
    }

    public static Result measure(int tokens, int warmup, int calls) {
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.FLOAT, tokens, 4096); // [T, 4096]
        INDArray w = Nd4j.randn(DataType.FLOAT, 4096, 11008); // [4096, 11008]
        INDArray z = Nd4j.create(DataType.FLOAT, tokens, 11008); // [T, 11008]
        for (int i = 0; i < warmup; i++) {
            Nd4j.gemm(x, w, z, false, false, 1.0, 0.0);
        }
        double[] ms = new double[calls];
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            Nd4j.gemm(x, w, z, false, false, 1.0, 0.0);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Interleaved.Stats s = Interleaved.Stats.of(ms);
        double gflop = 2.0 * tokens * 4096 * 11008 / 1e9;
        return new Result(tokens, s.median(), gflop / (s.median() / 1e3), gflop / (s.min() / 1e3));
    }
}
