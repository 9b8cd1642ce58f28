package dev.mor4j.paper;

import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.eval.ContinuationEncoder;
import dev.mor4j.llama.eval.MultipleChoiceEval;
import dev.mor4j.llama.eval.TokenScorer;
import dev.mor4j.llama.generate.Generator;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.TaskIndex;
import dev.mor4j.tasks.ExactMatchEval;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A trained model's test accuracy per task, as {@code mor eval --tasks test-mc.jsonl --generate test-gen.jsonl}
 * computes it: multiple choice by log-likelihood ({@link MultipleChoiceEval}, {@code acc}, BOS in front of every
 * context) and greedy exact match in the Tulu chat format up to EOS ({@link ExactMatchEval#greedyChat}, at most the
 * expected answer's tokens + {@value ExactMatchEval#SLACK_TOKENS} + EOS new tokens, or a fixed budget). A MoRE adapter computes each
 * task's items with that task ({@link TaskSwitch}). Built once per model (its scorer and generator hold graphs).
 */
final class TaskEvaluation {

    /**
     * @param accuracy   multiple-choice accuracy per task, in the data's task order
     * @param exactMatch exact-match accuracy per task
     */
    record Scores(Map<String, Double> accuracy, Map<String, Double> exactMatch) {
    }

    private final TaskSwitch task; // null unless MoRE
    private final TaskIndex moreTasks;
    private final MultipleChoiceEval mcEval;
    private final ExactMatchEval emEval;

    /**
     * @param weights   the model's weights (for full fine-tuning, the trained ones)
     * @param adapters  the trained adapters, or null
     * @param inference an inference graph of the same weights and adapters (scores the multiple-choice items)
     * @param moreTasks a MoRE adapter's tasks; null for other methods
     * @param batchSize sequences per forward pass when scoring
     * @param maxNewTokens most new tokens per generated answer; 0 for the expected answer's count + slack + EOS
     */
    TaskEvaluation(LlamaWeights weights, LlamaAdapters adapters, LlamaGraph inference, Tokenizer tok,
            TaskIndex moreTasks, int batchSize, int maxNewTokens) {
        this.moreTasks = moreTasks;
        this.task = moreTasks == null ? null : new TaskSwitch();
        this.mcEval = new MultipleChoiceEval(new ContinuationEncoder(tok, true), new TokenScorer(inference, batchSize),
                task);
        this.emEval = new ExactMatchEval(
                ExactMatchEval.greedyChat(Generator.withKvCache(weights, adapters, tok, task), tok, maxNewTokens));
    }

    /** Evaluates every task's test items. */
    Scores run(BenchmarkData data) {
        Map<String, Double> acc = new LinkedHashMap<>();
        Map<String, Double> em = new LinkedHashMap<>();
        for (String name : data.tasks()) {
            if (task != null) {
                task.set(moreTasks.idOf(name));
            }
            acc.put(name, mcEval.run(data.mc().get(name)).overall().acc());
            em.put(name, emEval.run(data.gen().get(name)).overall().exactMatch());
        }
        return new Scores(acc, em);
    }
}
