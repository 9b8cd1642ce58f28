package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.safetensors.SafetensorsWriter;
import dev.mor4j.core.safetensors.TensorInfo;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mor forward}: logits (and loss) of a checkpoint, optionally with an adapter, on a batch from a file. */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = {"Run the model on a batch and write its logits (and loss) to a safetensors file.",
            "IN holds I64 input_ids [B,T], attention_mask [B,T] and optionally labels [B,T];",
            "OUT gets F32 logits [B,T,V] and, when labels were given, F32 loss [1]."})
final class ForwardCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Hugging Face model directory (config.json, *.safetensors).")
    Path model;

    @Option(names = "--adapter", description = "Adapter directory (adapter_config.json, adapter_model.safetensors): "
            + "PEFT LoRA/DoRA or this library's MoR/MoELoRA.")
    Path adapter;

    @Option(names = "--inputs", required = true, description = "Input safetensors file.")
    Path inputs;

    @Option(names = "--out", required = true, description = "Output safetensors file (written atomically).")
    Path out;

    @Override
    public Integer call() {
        CliFiles.refuseOverwritingInput(out, inputs);
        Batch batch;
        try (SafetensorsFile in = SafetensorsFile.open(inputs)) {
            long[] shape = requireIds(in, "input_ids", null);
            batch = new Batch(rows(in, "input_ids"),
                    in.contains("attention_mask") ? rowsChecked(in, "attention_mask", shape) : null,
                    in.contains("labels") ? rowsChecked(in, "labels", shape) : null);
        }
        LlamaModel m = LlamaModel.load(model);
        LlamaGraph graph = adapter == null
                ? LlamaGraph.base(m.weights(), batch.labels() != null)
                : LlamaAdapters.load(m.weights(), adapter).graph(m.weights(), false, batch.labels() != null);
        LlamaForward.Result r = LlamaForward.run(graph, batch, false);
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
