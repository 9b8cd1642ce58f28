package dev.mor4j.tasks;

/**
 * One conversation of the pre-training corpus.
 *
 * @param operation the operation it exercises ({@link PretrainOperation#datasetName()})
 * @param id        unique in the corpus, e.g. {@code pretrain-successor-0007}
 * @param prompt    the user turn
 * @param answer    the assistant turn
 */
public record PretrainItem(String operation, String id, String prompt, String answer) {
}
