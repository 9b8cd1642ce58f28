package dev.mor4j.llama.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import org.junit.jupiter.api.Test;

class SamplerTest {

    /** Logits whose softmax is {@code p}. */
    private static float[] logitsOf(double... p) {
        float[] l = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            l[i] = (float) Math.log(p[i]);
        }
        return l;
    }

    @Test
    void greedyTakesTheLargestLogitAndTheLowestIndexOnATie() {
        Sampler s = new Sampler(GenerationConfig.greedy(1));
        assertEquals(2, s.next(new float[] {0.5f, -1f, 3f, 2.9f}));
        assertEquals(1, s.next(new float[] {0f, 7f, 7f, Float.NaN}));
    }

    @Test
    void topPKeepsTheSmallestMostLikelySetReachingP() {
        float[] logits = logitsOf(0.1, 0.5, 0.3, 0.05, 0.05);
        double[] p = new Sampler(GenerationConfig.sampling(1, 1.0, 0.7, 0)).distribution(logits);
        assertEquals(0.5 / 0.8, p[1], 1e-6);
        assertEquals(0.3 / 0.8, p[2], 1e-6);
        assertEquals(0.0, p[0] + p[3] + p[4]);
        double[] one = new Sampler(GenerationConfig.sampling(1, 1.0, 0.4, 0)).distribution(logits);
        assertEquals(1.0, one[1], 1e-12, "at least the most likely token is kept");
        double[] all = new Sampler(GenerationConfig.sampling(1, 1.0, 1.0, 0)).distribution(logits);
        assertEquals(0.05, all[4], 1e-6);
    }

    @Test
    void temperatureSharpensOrFlattens() {
        float[] logits = logitsOf(0.2, 0.8);
        double[] cold = new Sampler(GenerationConfig.sampling(1, 0.5, 1.0, 0)).distribution(logits);
        // softmax(log p / 0.5) ∝ p²: 0.04 / 0.68 and 0.64 / 0.68
        assertEquals(0.04 / 0.68, cold[0], 1e-6);
        double[] hot = new Sampler(GenerationConfig.sampling(1, 2.0, 1.0, 0)).distribution(logits);
        // ∝ √p
        assertEquals(Math.sqrt(0.2) / (Math.sqrt(0.2) + Math.sqrt(0.8)), hot[0], 1e-6);
    }

    @Test
    void samplesFollowTheDistributionAndRepeatWithTheSeed() {
        float[] logits = logitsOf(0.1, 0.6, 0.3);
        int n = 20000;
        int[] counts = new int[3];
        Sampler s = new Sampler(GenerationConfig.sampling(1, 1.0, 1.0, 42));
        Sampler twin = new Sampler(GenerationConfig.sampling(1, 1.0, 1.0, 42));
        for (int i = 0; i < n; i++) {
            int t = s.next(logits);
            assertEquals(t, twin.next(logits));
            counts[t]++;
        }
        // 5 standard deviations of a binomial proportion at n = 20000 is at most 0.018
        assertEquals(0.1, counts[0] / (double) n, 0.018);
        assertEquals(0.6, counts[1] / (double) n, 0.018);
        assertEquals(0.3, counts[2] / (double) n, 0.018);
    }

    @Test
    void configRefusesNonsense() {
        assertThrows(MorException.class, () -> GenerationConfig.greedy(0));
        assertThrows(MorException.class, () -> new GenerationConfig(5, -0.1, 1, 0));
        assertThrows(MorException.class, () -> new GenerationConfig(5, Double.NaN, 1, 0));
        assertThrows(MorException.class, () -> new GenerationConfig(5, 1, 0, 0));
        assertThrows(MorException.class, () -> new GenerationConfig(5, 1, 1.5, 0));
        assertTrue(new GenerationConfig(5, 0, 0.5, 0).isGreedy());
    }
}
