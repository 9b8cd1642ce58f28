/**
 * The MoR paper's comparisons at small scale ({@code mor paper}): the methods of its Tables 1, 3 and 4
 * ({@link dev.mor4j.paper.PaperMethod}), fine-tuned with the same steps and learning-rate grid on the benchmark of
 * {@code mor make-tasks}, evaluated per task, aggregated over seeds and checked against the paper's claims
 * ({@link dev.mor4j.paper.PaperExperiment}). See docs/experiments.md.
 */
package dev.mor4j.paper;
