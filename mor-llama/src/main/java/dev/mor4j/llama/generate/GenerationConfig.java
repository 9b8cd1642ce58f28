package dev.mor4j.llama.generate;

import dev.mor4j.core.MorException;

/**
 * How tokens are chosen, with the names and meanings of Hugging Face's {@code generate}.
 *
 * @param maxNewTokens the most tokens to generate (the EOS token included when it ends the answer)
 * @param temperature  0 for greedy decoding (the most likely token each step); otherwise the logits are
 *                     divided by it before sampling
 * @param topP         nucleus sampling: sample among the most likely tokens whose probabilities add up to at
 *                     least {@code topP} (1 keeps every token); ignored when greedy
 * @param seed         seeds the sampler, so that a run can be repeated exactly; ignored when greedy
 */
public record GenerationConfig(int maxNewTokens, double temperature, double topP, long seed) {

    public GenerationConfig {
        if (maxNewTokens < 1) {
            throw new MorException("max new tokens must be at least 1, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new MorException("temperature must be a finite number ≥ 0 (0 = greedy), got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new MorException("top-p must be in (0, 1], got " + topP);
        }
    }

    /** Greedy decoding of up to {@code maxNewTokens} tokens. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 1, 0);
    }

    /** Sampling at a temperature (> 0) from the top-p nucleus, seeded. */
    public static GenerationConfig sampling(int maxNewTokens, double temperature, double topP, long seed) {
        if (temperature == 0) {
            throw new MorException("sampling needs a temperature > 0; use greedy for 0");
        }
        return new GenerationConfig(maxNewTokens, temperature, topP, seed);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }
}
