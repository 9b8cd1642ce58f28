package dev.mor4j.examples;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.EncodeStats;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.data.TuluReader;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.FineTuneOptions;
import dev.mor4j.llama.train.FineTuneResult;
import dev.mor4j.llama.train.LlamaFineTune;
import dev.mor4j.llama.train.TrainingData;
import java.nio.file.Path;
import java.util.List;

/**
 * Fine-tunes MoR on a Tulu-v2 SFT file with the paper's settings, using the library directly:
 *
 * <pre>
 * java -cp "mor-examples/target/mor-examples-0.1.0-SNAPSHOT.jar:mor-examples/target/lib/*" \
 *     dev.mor4j.examples.TuluFineTune MODEL_DIR TOKENIZER_DIR tulu_v2.jsonl OUT_DIR [MAX_STEPS]
 * </pre>
 *
 * Without {@code MAX_STEPS} it trains 3 epochs. {@code OUT_DIR} receives checkpoints, {@code metrics.jsonl} and the
 * adapter in PEFT's layout. ({@code mor finetune} does the same with flags, safe output directories, resuming and
 * plots.)
 */
public final class TuluFineTune {

    private TuluFineTune() {
    }

    public static void main(String[] args) {
        if (args.length < 4 || args.length > 5) {
            System.err.println("usage: TuluFineTune MODEL_DIR TOKENIZER_DIR DATA.jsonl OUT_DIR [MAX_STEPS]");
            System.exit(2);
        }
        run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), Path.of(args[3]),
                args.length == 5 ? Long.parseLong(args[4]) : 0);
    }

    /**
     * @param maxSteps optimizer steps, or 0 for 3 epochs
     */
    public static FineTuneResult run(Path modelDir, Path tokenizerDir, Path data, Path out, long maxSteps) {
        // 1. Encode the conversations as open-instruct does (answers are the only labels); skip bad lines.
        TuluEncoder encoder = new TuluEncoder(Tokenizer.load(tokenizerDir), 1024);
        List<EncodedExample> examples;
        try (TuluReader reader = TuluReader.open(data, bad -> System.err.println("skipping " + bad))) {
            examples = encoder.encodeAll(reader.stream(), new EncodeStats()).toList();
        }

        // 2. The frozen model and a fresh MoR adapter: N 8, r 8, alpha 32, dropout 0.05 on gate/up/down.
        LlamaModel model = LlamaModel.load(modelDir);
        LlamaAdapters mor = LlamaAdapters.create(model.weights(), AdapterConfig.mor().build(), 42);

        // 3. The paper's optimisation: AdamW at 2e-4, 3% warmup, linear decay.
        FineTuneOptions options = FineTuneOptions.defaults().withBatchSize(4);
        long steps = maxSteps > 0 ? maxSteps : TrainingData.steps(examples.size(), options.batchSize(), 1, 3.0);
        TrainConfig config = TrainConfig.builder().learningRate(2e-4).warmupRatio(0.03).maxSteps(steps)
                .saveSteps(500).saveTotalLimit(2).seed(42).build();

        // 4. Train; the adapter is written to `out` at the end.
        LlamaFineTune fineTune = LlamaFineTune.builder(model, mor, examples).trainConfig(config).options(options)
                .outputDir(out).listener(m -> System.err.printf("step %d/%d loss %.4f%n", m.step(), steps, m.loss()))
                .build();
        FineTuneResult result = fineTune.train();
        int window = Math.max(1, Math.min(5, result.steps().size() / 2));
        System.out.printf("trained %d steps; mean loss of the first and last %d: %.4f -> %.4f; adapter in %s%n",
                result.globalStep(), window, result.meanLossOfFirst(window), result.meanLossOfLast(window),
                result.adapter());
        return result;
    }
}
