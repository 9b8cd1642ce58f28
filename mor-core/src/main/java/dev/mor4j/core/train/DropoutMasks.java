package dev.mor4j.core.train;

import dev.mor4j.core.MorException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Fills the dropout-mask placeholders of an adapter graph ({@code <prefix>.dropout_mask}, see
 * {@link dev.mor4j.core.adapter.AdapterContext}) for one micro-batch.
 *
 * <p>Each element is kept with probability {@code 1 - p} and then holds {@code 1/(1-p)}, else 0, as PyTorch's
 * inverted dropout. The values depend only on {@code (seed, step, microBatch, placeholder name)}: not on the
 * order of the maps, on earlier calls or on the backend, so a resumed run draws the same masks as an
 * uninterrupted one.
 */
public final class DropoutMasks {

    private DropoutMasks() {
    }

    /**
     * Draws the masks of one micro-batch.
     *
     * @param masks      placeholder name to {@code d_in} (as {@code AdapterContext.dropoutMasks()})
     * @param rates      placeholder name to dropout probability {@code p} in {@code [0, 1)}
     * @param tokens     rows of each mask (tokens in the micro-batch)
     * @param seed       the run's seed
     * @param step       the 0-based optimizer step
     * @param microBatch the micro-batch within the step
     * @return placeholder name to a FLOAT mask {@code [tokens, d_in]}, in the order of {@code masks}
     * @throws MorException if a rate is missing or out of range, or a mask would be too large
     */
    public static Map<String, INDArray> fill(Map<String, Integer> masks, Map<String, Double> rates, long tokens,
                                             long seed, long step, int microBatch) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : masks.entrySet()) {
            String name = e.getKey();
            int dIn = e.getValue();
            Double p = rates.get(name);
            if (p == null || !(p >= 0 && p < 1)) {
                throw new MorException("dropout mask '" + name + "': rate " + p + "; expected a probability in [0, 1)");
            }
            long n = tokens * dIn;
            if (tokens < 0 || dIn <= 0 || n > Integer.MAX_VALUE - 8) {
                throw new MorException("dropout mask '" + name + "': [" + tokens + ", " + dIn
                        + "] cannot be filled; expected tokens ≥ 0, d_in ≥ 1 and at most 2^31 elements");
            }
            out.put(name, mask(p, tokens, dIn, Seeds.random(seed, step, microBatch, Seeds.name(name))));
        }
        return out;
    }

    private static INDArray mask(double p, long tokens, int dIn, SplittableRandom rng) {
        float keep = (float) (1.0 / (1.0 - p)); // [tokens, d_in] values 0 or 1/(1-p)
        float[] v = new float[(int) (tokens * dIn)];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextDouble() < p ? 0f : keep;
        }
        return Nd4j.create(v, new long[] {tokens, dIn}, DataType.FLOAT);
    }
}
