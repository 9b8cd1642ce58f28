package dev.mor4j.llama.eval;

/**
 * Accuracy on a set of multiple-choice items.
 *
 * @param task    the task name, or {@link MultipleChoiceEval#ALL} for every item together
 * @param n       the number of items
 * @param acc     the fraction whose correct choice has the highest log-likelihood
 * @param accNorm the fraction whose correct choice has the highest log-likelihood per character
 */
public record TaskResult(String task, int n, double acc, double accNorm) {
}
