/**
 * Reading and writing safetensors checkpoints.
 *
 * <ul>
 *   <li>{@link dev.mor4j.core.safetensors.SafetensorsFile}: one file, header validated on open, tensors read
 *       through memory mappings (F32/F16/BF16 as FLOAT, I64/I32 as LONG).</li>
 *   <li>{@link dev.mor4j.core.safetensors.ShardedCheckpoint}: a Hugging Face model directory, single-file or
 *       sharded with {@code model.safetensors.index.json}.</li>
 *   <li>{@link dev.mor4j.core.safetensors.TensorSource}: what both offer to loaders.</li>
 *   <li>{@link dev.mor4j.core.safetensors.SafetensorsWriter}: atomic writes in the layout of the Python
 *       {@code safetensors} library, from a map of arrays or streamed tensor by tensor
 *       ({@link dev.mor4j.core.safetensors.TensorSpec} for what to write,
 *       {@link dev.mor4j.core.safetensors.TensorValues} for each tensor's values, read in chunks).</li>
 *   <li>{@link dev.mor4j.core.safetensors.ShardedCheckpointWriter}: a model directory's weights as
 *       {@code transformers}' {@code save_pretrained} writes them (5 GB shards by
 *       {@link dev.mor4j.core.safetensors.ShardPlan}, index), streamed and all-or-nothing.</li>
 * </ul>
 */
package dev.mor4j.core.safetensors;
