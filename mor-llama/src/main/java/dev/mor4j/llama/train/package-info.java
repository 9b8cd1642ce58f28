/**
 * Supervised fine-tuning of LLaMA adapters, or of every base weight, on encoded conversations (Tulu-v2).
 *
 * <ul>
 *   <li>{@link dev.mor4j.llama.train.LlamaFineTune}: model + adapters + examples + training config → a trained
 *       adapter, with checkpoints, metrics and exact resume; or, for full fine-tuning, model + its trainable weights
 *       ({@link dev.mor4j.llama.model.TrainableBase}) → a trained model, written as a Hugging Face checkpoint
 *       ({@link dev.mor4j.llama.train.FullCheckpoint}).</li>
 *   <li>{@link dev.mor4j.llama.train.TrainingData}: the examples as an endless sequence of micro-batches, epoch
 *       by epoch in a seeded order ({@link dev.mor4j.llama.train.BatchOrder}), packed several to a row
 *       ({@link dev.mor4j.llama.train.PackingCollator}) or right-padded one per row
 *       ({@link dev.mor4j.llama.train.BatchCollator}); its {@link dev.mor4j.llama.train.DataPosition} is saved
 *       with each checkpoint.</li>
 *   <li>{@link dev.mor4j.llama.train.MicroBatchGradients}: one micro-batch's loss and adapter gradients (the graph,
 *       its feeds and dropout masks), in this process or on each worker of a
 *       {@link dev.mor4j.llama.train.StepBackend} (a cluster).</li>
 *   <li>{@link dev.mor4j.llama.train.RouterStats}: mean router weight per module × expert for each source
 *       dataset (the MoR paper's Fig. 7).</li>
 * </ul>
 */
package dev.mor4j.llama.train;
