/**
 * Training over any SameDiff graph with a scalar loss and trainable {@code sd.var} weights (this package knows
 * nothing of LLaMA).
 *
 * <ul>
 *   <li>{@link dev.mor4j.core.train.GradientSource}: loss and gradients of one micro-batch;
 *       {@link dev.mor4j.core.train.SameDiffGradients} computes them from a graph.</li>
 *   <li>{@link dev.mor4j.core.train.Trainer}: accumulation ({@link dev.mor4j.core.train.GradientAccumulator},
 *       summing pairwise with {@link dev.mor4j.core.train.PairwiseSums}), clipping
 *       ({@link dev.mor4j.core.train.GradClip}), NaN/Inf skipping, {@link dev.mor4j.core.train.AdamW} with an
 *       {@link dev.mor4j.core.train.LrSchedule}, listeners and checkpoints.</li>
 *   <li>{@link dev.mor4j.core.train.StepGradients}: all micro-batches of a step at once, here or on a cluster:
 *       the pairwise sums give the same bits either way.</li>
 *   <li>{@link dev.mor4j.core.train.TrainConfig}: the hyper-parameters, named as in Hugging Face.</li>
 *   <li>{@link dev.mor4j.core.train.CheckpointStore}: atomic {@code checkpoint-<step>} directories, rotation,
 *       resume; {@link dev.mor4j.core.train.CheckpointHook} adds the caller's files (the PEFT adapter).</li>
 *   <li>{@link dev.mor4j.core.train.MetricsLog}: {@code metrics.jsonl}, one line per step.</li>
 *   <li>{@link dev.mor4j.core.train.Seeds}, {@link dev.mor4j.core.train.DropoutMasks}: randomness derived from
 *       {@code (seed, step, micro-batch)}, so a resumed run is bit-identical to an uninterrupted one.</li>
 * </ul>
 *
 * <pre>{@code
 * AdapterContext ctx = new AdapterContext(sd, adapterWeights, true);
 * // ... build the graph, its scalar loss "loss" and the adapter weights as sd.var ...
 * SameDiffGradients grads = new SameDiffGradients(sd, "loss", trainableNames, (step, mb) -> {
 *     Map<String, INDArray> feeds = data.batch(step, mb);                 // token ids, labels, ...
 *     feeds.putAll(DropoutMasks.fill(ctx.dropoutMasks(), ctx.dropoutRates(), tokens, cfg.seed(), step, mb));
 *     return new SameDiffGradients.Batch(feeds, tokens);
 * });
 * Trainer trainer = new Trainer(cfg, grads.trainableArrays(), grads)
 *         .checkpoints(new CheckpointStore(out, cfg.saveTotalLimit()))
 *         .checkpointHook((dir, step) -> AdapterFiles.save(dir, adapterConfig, adapterWeights))
 *         .dataPosition(data::position)
 *         .addListener(MetricsLog.in(out));
 * trainer.resume(out.resolve("checkpoint-500"));                         // optional
 * trainer.train();
 * }</pre>
 */
package dev.mor4j.core.train;
