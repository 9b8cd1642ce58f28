/**
 * The multi-task benchmark for comparing adapters at small scale: {@link dev.mor4j.tasks.Benchmark} draws six
 * synthetic tasks ({@link dev.mor4j.tasks.BenchmarkTask}) with disjoint train and test splits and a
 * pre-training corpus ({@link dev.mor4j.tasks.PretrainOperation}), {@link dev.mor4j.tasks.BenchmarkFiles}
 * writes them as Tulu-v2, multiple-choice and exact-match JSONL, {@link dev.mor4j.tasks.TaskTokenizer} trains
 * ({@link dev.mor4j.tasks.BpeTrainer}) and writes a small {@code tokenizer.json} for them, and
 * {@link dev.mor4j.tasks.ExactMatchEval} scores a model's generated answers. {@code mor make-tasks} and
 * {@code mor eval --generate} are the command-line entries; docs/experiments.md describes the tasks.
 */
package dev.mor4j.tasks;
