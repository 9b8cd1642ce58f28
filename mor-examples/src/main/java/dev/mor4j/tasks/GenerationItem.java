package dev.mor4j.tasks;

/**
 * One exact-match generation item: the model answers {@code prompt} and is right when its answer is
 * {@code answer} (both stripped of surrounding white space).
 *
 * @param task   the task it belongs to (results are reported per task)
 * @param id     an identifier for the per-item output, or {@code file:line} when the row has none
 * @param prompt the user turn
 * @param answer the expected answer
 * @param source where it was read, {@code file:line}, for messages
 */
public record GenerationItem(String task, String id, String prompt, String answer, String source) {
}
