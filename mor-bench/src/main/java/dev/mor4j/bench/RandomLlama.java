package dev.mor4j.bench;

import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.model.LlamaWeights;
import java.util.List;

/**
 * LLaMA models with random weights built in memory, for benchmarks: no checkpoint is read. Matrices are
 * N(0, 0.02²) as transformers initialises them ({@code initializer_range}), norm weights are ones.
 */
public final class RandomLlama {

    private RandomLlama() {
    }

    /**
     * LLaMA-2-7B's widths (hidden 4096, intermediate 11008, 32 heads of 128, vocabulary 32000, RMSNorm ε 1e-5,
     * rotary θ 10000) with {@code layers} decoder layers.
     */
    public static LlamaConfig llama2_7bWidth(int layers) {
        return new LlamaConfig(4096, 11008, layers, 32, 32, 128, 1e-5, 10000.0, false, 32000, 4096, 1, List.of(2));
    }

    /**
     * A tiny LLaMA shape for checking that a benchmark runs (not for timing): hidden 64, intermediate 176, 4 heads of
     * 16, vocabulary 32000, with {@code layers} decoder layers.
     */
    public static LlamaConfig tiny(int layers) {
        return new LlamaConfig(64, 176, layers, 4, 4, 16, 1e-5, 10000.0, false, 32000, 4096, 1, List.of(2));
    }

    /** Random weights for {@code config} ({@link LlamaWeights#random} with transformers' initializer range 0.02). */
    public static LlamaWeights weights(LlamaConfig config, long seed) {
        return LlamaWeights.random(config, seed, LlamaWeights.DEFAULT_INITIALIZER_RANGE);
    }
}
