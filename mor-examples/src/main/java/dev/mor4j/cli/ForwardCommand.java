package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.safetensors.SafetensorsWriter;
import dev.mor4j.core.safetensors.TensorInfo;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.MoreTasks;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mor forward}: logits (and loss) of a checkpoint, optionally with an adapter, on a batch from a file. */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = {"Run the model on a batch and write its logits (and loss) to a safetensors file.",
            "IN holds I64 input_ids [B,T], attention_mask [B,T] and optionally labels [B,T]; with a MoRE adapter",
            "also I64 task_ids [B], each row's task (an index into the adapter's tasks);",
            "OUT gets F32 logits [B,T,V] and, when labels were given, F32 loss [1]."})
final class ForwardCommand implements Callable<Integer> {

    /** The inputs' key of each row's task (MoRE adapters). */
    static final String TASK_IDS = "task_ids";

    @Option(names = "--model", required = true, description = "Hugging Face model directory (config.json, *.safetensors).")
    Path model;

    @Option(names = "--adapter", description = "Adapter directory (adapter_config.json, adapter_model.safetensors): "
            + "PEFT LoRA/DoRA or this library's MoR/MoELoRA/MoRE.")
    Path adapter;

    @Option(names = "--inputs", required = true, description = "Input safetensors file.")
    Path inputs;

    @Option(names = "--out", required = true, description = "Output safetensors file (written atomically).")
    Path out;

    @Override
    public Integer call() {
        CliFiles.refuseOverwritingInput(out, inputs);
        Batch batch;
        long[] taskIds; // [B], or null when the file has none
        try (SafetensorsFile in = SafetensorsFile.open(inputs)) {
            long[] shape = requireIds(in, "input_ids", null);
            batch = new Batch(rows(in, "input_ids"),
                    in.contains("attention_mask") ? rowsChecked(in, "attention_mask", shape) : null,
                    in.contains("labels") ? rowsChecked(in, "labels", shape) : null);
            taskIds = in.contains(TASK_IDS) ? taskIds(in, shape[0]) : null;
        }
        LlamaModel m = LlamaModel.load(model);
        LlamaAdapters adapters = adapter == null ? null : LlamaAdapters.load(m.weights(), adapter);
        if (MoreTasks.isMore(adapters)) {
            batch = batch.withTaskIds(checkedTasks(taskIds, MoreTasks.names(adapters), batch.batchSize()));
        }
        GraphKind kind = batch.labels() != null ? GraphKind.LOSS : GraphKind.INFERENCE;
        LlamaGraph graph = adapters == null ? LlamaGraph.base(m.weights(), kind) : adapters.graph(m.weights(), kind);
        LlamaForward.Result r = LlamaForward.run(graph, batch);
        Map<String, INDArray> result = new LinkedHashMap<>();
        result.put("logits", r.logits());
        if (r.loss() != null) {
            result.put("loss", Nd4j.createFromArray(new float[] {r.loss()}));
        }
        SafetensorsWriter.write(out, result, Map.of("made_by", "mor4j forward"));
        System.err.printf("wrote %s: logits %s%s%n", out, Arrays.toString(r.logits().shape()),
                r.loss() != null ? String.format(", loss %.6f", r.loss()) : "");
        return 0;
    }

    /** {@value #TASK_IDS} {@code [B]}, I64 or I32. */
    private long[] taskIds(SafetensorsFile in, long rows) {
        TensorInfo info = in.info(TASK_IDS);
        if (!Arrays.equals(info.shape(), new long[] {rows})) {
            throw new MorException(inputs + ": '" + TASK_IDS + "' expected shape [" + rows + "] (one task id per row of"
                    + " input_ids), got " + Arrays.toString(info.shape()));
        }
        String dt = info.dtype().name();
        if (!dt.equals("I64") && !dt.equals("I32")) {
            throw new MorException(inputs + ": '" + TASK_IDS + "' expected dtype I64, got " + dt);
        }
        return in.getLong(TASK_IDS).reshape(rows).toLongVector();
    }

    /** The task ids a MoRE adapter needs: present, and each an index into its tasks. */
    private long[] checkedTasks(long[] ids, List<String> tasks, int rows) {
        if (ids == null) {
            throw new MorException(inputs + ": missing tensor '" + TASK_IDS + "': the MoRE adapter " + adapter
                    + " needs each row's task, I64 [" + rows + "], indices into its tasks " + tasks);
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= tasks.size()) {
                throw new MorException(inputs + ": " + TASK_IDS + "[" + i + "] = " + ids[i] + " is outside [0, "
                        + tasks.size() + "), the indices of the adapter's tasks " + tasks);
            }
        }
        return ids;
    }

    private long[] requireIds(SafetensorsFile in, String key, long[] shape) {
        if (!in.contains(key)) {
            throw new MorException(inputs + ": missing tensor '" + key + "' (expected I64 [B, T])");
        }
        TensorInfo info = in.info(key);
        if (info.shape().length != 2 || (shape != null && !Arrays.equals(shape, info.shape()))) {
            throw new MorException(inputs + ": '" + key + "' expected shape "
                    + (shape == null ? "[B, T]" : Arrays.toString(shape)) + ", got " + Arrays.toString(info.shape()));
        }
        String dt = info.dtype().name();
        if (!dt.equals("I64") && !dt.equals("I32")) {
            throw new MorException(inputs + ": '" + key + "' expected dtype I64, got " + dt);
        }
        return info.shape();
    }

    private long[][] rowsChecked(SafetensorsFile in, String key, long[] shape) {
        requireIds(in, key, shape);
        return rows(in, key);
    }

    private static long[][] rows(SafetensorsFile in, String key) {
        return in.getLong(key).toLongMatrix();
    }
}
