/**
 * Evaluation in the manner of lm-evaluation-harness: zero-shot multiple choice by log-likelihood
 * ({@link dev.mor4j.llama.eval.MultipleChoiceEval}: {@code acc} and {@code acc_norm} per task and overall) and
 * token-level perplexity ({@link dev.mor4j.llama.eval.Perplexity}), both through the batched, right-padded
 * {@link dev.mor4j.llama.eval.TokenScorer}; inputs are JSONL files read by {@link dev.mor4j.llama.eval.EvalFiles}.
 */
package dev.mor4j.llama.eval;
