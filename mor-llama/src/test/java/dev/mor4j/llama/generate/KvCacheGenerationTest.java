package dev.mor4j.llama.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.OmegaInit;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Generation with the key/value cache against generation that recomputes the whole sequence through
 * {@link dev.mor4j.llama.model.LlamaForward} at every step: the same tokens, and logits within 1e-4 at every
 * step, for the base model and with a MoR adapter on every projection.
 */
class KvCacheGenerationTest {

    private static final double LOGIT_TOLERANCE = 1e-4;
    private static final String PROMPT = "Name three colours of the rainbow.";

    private static LlamaModel model;
    private static Tokenizer tokenizer;
    // built once: each holds its own graphs
    private static Generator baseCached;
    private static Generator baseRecomputing;
    private static Generator morCached;
    private static Generator morRecomputing;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        tokenizer = Tokenizer.load(TestData.root().resolve("tokenizers/sp-bpe-32k"));
        baseCached = Generator.withKvCache(model.weights(), null, tokenizer);
        baseRecomputing = Generator.recomputing(model.weights(), null, tokenizer);
        LlamaAdapters mor = morAdapter();
        morCached = Generator.withKvCache(model.weights(), mor, tokenizer);
        morRecomputing = Generator.recomputing(model.weights(), mor, tokenizer);
    }

    /** A MoR adapter on all seven projections with random nonzero B (a fresh one would leave the model as is). */
    static LlamaAdapters morAdapter() {
        return morAdapterFor(model);
    }

    /** {@link #morAdapter()} for a loaded model. */
    static LlamaAdapters morAdapterFor(LlamaModel model) {
        AdapterConfig config = AdapterConfig.mor().rank(8).alpha(32).dropout(0.0)
                .targetModules("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
                .experts(4).router(RouterType.SOFTMAX).omegaInit(OmegaInit.RANDOM).build();
        LlamaAdapters a = LlamaAdapters.create(model.weights(), config, 11);
        Random rng = new Random(5);
        for (Map.Entry<String, INDArray> e : a.weights().entrySet()) {
            if (e.getKey().endsWith("lora_B.weight")) {
                INDArray b = e.getValue();
                double[] v = new double[(int) b.length()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = 0.5 * rng.nextGaussian();
                }
                b.assign(Nd4j.create(v, b.shape(), DataType.DOUBLE).castTo(b.dataType()));
            }
        }
        return a;
    }

    /** Each step's logits, copied. */
    private static final class Recorder implements Generator.StepListener {
        final List<float[]> logits = new ArrayList<>();

        @Override
        public void onStep(int step, float[] l, int token) {
            logits.add(l.clone());
        }
    }

    /** Generates with and without the cache and compares ids and every step's logits; returns the cached result. */
    private static GenerationResult compare(String label, Generator cached, Generator recomputing,
            GenerationConfig config) {
        int[] prompt = tokenizer.encode(ChatTemplate.tulu(tokenizer, PROMPT), true);
        Recorder withCache = new Recorder();
        Recorder without = new Recorder();
        GenerationResult a = cached.generate(prompt, config, withCache);
        GenerationResult b = recomputing.generate(prompt, config, without);
        assertArrayEquals(b.tokenIds(), a.tokenIds(), label + ": generated ids");
        assertEquals(b.stopReason(), a.stopReason());
        double worst = 0;
        for (int s = 0; s < a.tokenIds().length; s++) {
            double d = TestData.maxAbsDiff(withCache.logits.get(s), without.logits.get(s));
            worst = Math.max(worst, d);
            assertTrue(d <= LOGIT_TOLERANCE, label + ": step " + s + " logits max|Δ| " + d);
        }
        System.out.printf("%s: %d prompt + %d new tokens (%s), logits max|Δ| cache vs recompute %.3g; "
                + "decode %.2f ms/token with the cache, %.2f ms/token recomputing%n", label, prompt.length,
                a.tokenIds().length, a.stopReason(), worst, a.decodeMillisPerToken(), b.decodeMillisPerToken());
        return a;
    }

    @Test
    void greedyWithTheCacheEqualsRecomputingForTheBaseModel() {
        GenerationResult r = compare("base greedy", baseCached, baseRecomputing, GenerationConfig.greedy(24));
        assertEquals(StopReason.MAX_NEW_TOKENS, r.stopReason());
        assertEquals(24, r.tokenIds().length);
        assertEquals(tokenizer.decode(r.tokenIds(), true), r.text());
    }

    @Test
    void greedyWithTheCacheEqualsRecomputingWithAMorAdapter() {
        GenerationResult withAdapter = compare("MoR greedy", morCached, morRecomputing, GenerationConfig.greedy(24));
        GenerationResult base = baseCached.chat(PROMPT, GenerationConfig.greedy(24));
        assertFalse(java.util.Arrays.equals(base.tokenIds(), withAdapter.tokenIds()),
                "the adapter changes what is generated");
    }

    @Test
    void seededSamplingRepeatsAndAgreesWithRecomputing() {
        GenerationConfig config = GenerationConfig.sampling(16, 0.8, 0.9, 7);
        GenerationResult once = compare("MoR sampling", morCached, morRecomputing, config);
        GenerationResult again = morCached.chat(PROMPT, config);
        assertArrayEquals(once.tokenIds(), again.tokenIds(), "same seed, same tokens");
        GenerationResult otherSeed = morCached.chat(PROMPT, GenerationConfig.sampling(16, 0.8, 0.9, 8));
        assertFalse(java.util.Arrays.equals(once.tokenIds(), otherSeed.tokenIds()), "another seed, other tokens");
        assertEquals(16, once.tokenIds().length);
    }

    @Test
    void chatUsesTheTuluTemplateWithBos() {
        GenerationResult r = baseCached.chat("  Hi there \n", GenerationConfig.greedy(1));
        assertArrayEquals(tokenizer.encode("<|user|>\nHi there\n<|assistant|>\n", true), r.promptIds());
        assertEquals(tokenizer.bosId().getAsInt(), r.promptIds()[0]);
    }

    @Test
    void generationStopsAtTheLastPosition() {
        Generator g = baseCached;
        int max = model.config().maxPositionEmbeddings();
        int[] prompt = new int[max - 3];
        java.util.Arrays.fill(prompt, 272);
        prompt[0] = 1;
        GenerationResult r = g.generate(prompt, GenerationConfig.greedy(50), null);
        assertEquals(StopReason.MAX_POSITIONS, r.stopReason());
        assertEquals(4, r.tokenIds().length, "3 tokens fed after the prompt fill the positions, a 4th is predicted");
    }
}
