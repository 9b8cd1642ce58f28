package dev.mor4j.spark;

import dev.mor4j.core.TestData;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.AdapterFiles;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.train.LrSchedulerType;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.core.train.TrainListener;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.EncodeStats;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.data.TuluReader;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.FineTuneOptions;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.StepBackend;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The bundled tiny model, the encoded 16-conversation Tulu sample and helpers to compare adapters. */
final class SparkFixtures {

    private static LlamaModel model;
    private static List<EncodedExample> sample;

    private SparkFixtures() {
    }

    static synchronized LlamaModel model() {
        if (model == null) {
            model = LlamaModel.load(TestData.root().resolve("models/tiny-llama-f32"));
        }
        return model;
    }

    /** The 16 sample conversations encoded at 256 tokens, as {@code mor finetune} encodes them by default. */
    static synchronized List<EncodedExample> sample() {
        if (sample == null) {
            Tokenizer tok = Tokenizer.load(TestData.root().resolve("tokenizers/sp-bpe-32k"));
            try (Stream<Conversation> s = TuluReader.openStrict(TestData.root().resolve("tulu/tulu_v2_sample.jsonl"))
                    .stream()) {
                sample = new TuluEncoder(tok, 256).encodeAll(s, new EncodeStats()).toList();
            }
        }
        return sample;
    }

    /** MoR on gate/up/down with the paper's shape (N 8, r 8, α 32) and adapter dropout 0.1. */
    static AdapterConfig mor() {
        return AdapterConfig.mor().rank(8).alpha(32).dropout(0.1).experts(8).router(RouterType.SOFTMAX).build();
    }

    /**
     * A MoR fine-tuning of the tiny model on the sample: batch 4, 4 micro-batches a step (one epoch), lr 1e-2 with
     * cosine decay, seed 7, a checkpoint every 2 steps; on {@code backend} when not null.
     *
     * @param initSeed seed of the adapter's initial weights
     */
    static LlamaFineTune fineTune(long maxSteps, long initSeed, Path out, StepBackend backend, TrainListener listener) {
        TrainConfig cfg = TrainConfig.builder().learningRate(1e-2).maxSteps(maxSteps).gradientAccumulationSteps(4)
                .seed(7).saveSteps(2).saveTotalLimit(0).warmupRatio(0).lrScheduler(LrSchedulerType.COSINE).build();
        LlamaAdapters adapters = LlamaAdapters.create(model().weights(), mor(), initSeed);
        LlamaFineTune.Builder b = LlamaFineTune.builder(model(), adapters, sample()).trainConfig(cfg)
                .options(FineTuneOptions.defaults().withBatchSize(4)).outputDir(out).messages(m -> { })
                .backend(backend);
        if (listener != null) {
            b.listener(listener);
        }
        return b.build();
    }

    /** Each weight's float32 values. */
    static Map<String, float[]> values(Map<String, INDArray> weights) {
        Map<String, float[]> out = new LinkedHashMap<>();
        weights.forEach((k, v) -> out.put(k, v.dup('c').data().asFloat()));
        return out;
    }

    /** The saved adapter's weights in {@code dir}. */
    static Map<String, float[]> savedAdapter(Path dir) {
        return values(AdapterFiles.load(dir).weights());
    }
}
