/**
 * Benchmarks of mor4j on ND4J/SameDiff (CPU, float32).
 *
 * <ul>
 *   <li>{@link dev.mor4j.bench.ProjectionBenchmark} (JMH): one adapted projection at LLaMA-2-7B FFN shapes,
 *       forward and forward+backward, for each {@link dev.mor4j.bench.Variant}.</li>
 *   <li>{@link dev.mor4j.bench.TrainingStepBenchmark} (JMH): forward and whole optimizer steps on a random
 *       2-layer LLaMA-2-7B-width model ({@link dev.mor4j.bench.RandomLlama}, {@link dev.mor4j.bench.TrainingStep}).</li>
 *   <li>{@link dev.mor4j.bench.Report}: the report {@code bench/quick} prints, with the projection targets and the
 *       training step measured interleaved ({@link dev.mor4j.bench.Interleaved}) so that ratios are taken within
 *       one run.</li>
 *   <li>{@link dev.mor4j.bench.TokenizerThroughput}: tokenizer and Tulu-encoder throughput on one thread, next to
 *       HF tokenizers in the same process.</li>
 *   <li>{@link dev.mor4j.bench.OpProfile}: a SameDiff listener timing every op, to see where a pass spends its
 *       time.</li>
 * </ul>
 */
package dev.mor4j.bench;
