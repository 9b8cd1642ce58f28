/**
 * Text generation with a key/value cache: {@link dev.mor4j.llama.generate.KvCacheForward} runs a prefill graph
 * over the prompt and a decode graph over each new token (both {@link dev.mor4j.llama.model.LlamaGraph}s built
 * once, adapters included), keeping each layer's keys and values in a {@link dev.mor4j.llama.generate.KvCache}
 * of fixed capacity into which each step writes its new positions in place;
 * {@link dev.mor4j.llama.generate.Generator} chooses tokens greedily or by seeded temperature / top-p sampling
 * ({@link dev.mor4j.llama.generate.Sampler}) and stops at EOS, after a number of new tokens, or at the last
 * position. Prompts use the Tulu chat format ({@link dev.mor4j.llama.generate.ChatTemplate}).
 */
package dev.mor4j.llama.generate;
