package dev.mor4j.cli;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.mor4j.core.MorException;
import dev.mor4j.core.train.LrSchedulerType;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.llama.config.LlamaConfig;
import dev.mor4j.llama.model.LlamaFeeds;
import dev.mor4j.llama.train.FineTuneOptions;
import java.util.List;

/**
 * What {@code mor make-base} was asked to build, one field per flag (snake_case, as recorded in the base model's
 * {@code pretraining/make_base.json}): the architecture of the small LLaMA and how it is pre-trained. The rest of the
 * recipe is fixed here: no grouped-query attention (as many key/value heads as heads), an untied LM head (LLaMA-2's
 * layout), RMSNorm ε {@value #RMS_NORM_EPS}, rotary base {@value #ROPE_THETA}, AdamW at its defaults without weight
 * decay, gradient clipping at {@value #MAX_GRAD_NORM}, a cosine schedule after {@value #WARMUP_RATIO} of the steps of
 * linear warm-up, and the loss averaged over each batch's answer tokens.
 *
 * @param tasks         the {@code make-tasks} directory (absolute)
 * @param seed          seed of the initial weights and of the data order
 * @param layers        {@code num_hidden_layers}
 * @param hidden        {@code hidden_size}
 * @param intermediate  {@code intermediate_size} (the MLP's width)
 * @param heads         {@code num_attention_heads} (and key/value heads)
 * @param maxPositions  {@code max_position_embeddings}
 * @param steps         optimizer steps
 * @param lr            peak learning rate
 * @param batch         conversations per step
 * @param maxLen        most tokens per conversation (longer ones are cut)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record BaseModelSettings(
        String tasks,
        long seed,
        int layers,
        int hidden,
        int intermediate,
        int heads,
        int maxPositions,
        long steps,
        double lr,
        int batch,
        int maxLen) {

    static final double RMS_NORM_EPS = 1e-5;
    static final double ROPE_THETA = 10000.0;
    static final double WARMUP_RATIO = 0.05;
    static final double MAX_GRAD_NORM = 1.0;
    static final LrSchedulerType SCHEDULE = LrSchedulerType.COSINE;

    /** Checks the flags; the config and training records check the rest. */
    void validate() {
        atLeast("--layers", layers, 1);
        atLeast("--hidden", hidden, 2);
        atLeast("--intermediate", intermediate, 1);
        atLeast("--heads", heads, 1);
        atLeast("--steps", steps, 1);
        atLeast("--batch", batch, 1);
        atLeast("--max-len", maxLen, 2);
        if (hidden % heads != 0 || (hidden / heads) % 2 != 0) {
            throw new MorException("--hidden " + hidden + " and --heads " + heads + ": the hidden size must be the heads"
                    + " times an even head size (rotary embeddings rotate pairs of dimensions), e.g. --hidden 256"
                    + " --heads 4");
        }
        if (maxPositions < maxLen) {
            throw new MorException("--max-positions is " + maxPositions + "; expected at least --max-len (" + maxLen
                    + "), the longest sequence the model is trained on");
        }
        if (!(lr > 0 && Double.isFinite(lr))) {
            throw new MorException("--lr is " + lr + "; expected a number > 0");
        }
    }

    /**
     * The model's config for a tokenizer of {@code vocabSize} tokens whose BOS and EOS are {@code bos} and {@code eos}.
     */
    LlamaConfig llamaConfig(int vocabSize, int bos, int eos) {
        return new LlamaConfig(hidden, intermediate, layers, heads, heads, hidden / heads, RMS_NORM_EPS, ROPE_THETA,
                false, vocabSize, maxPositions, bos, List.of(eos));
    }

    /** The optimizer and schedule; pre-training writes no checkpoints, only the final model. */
    TrainConfig trainConfig() {
        return TrainConfig.builder().learningRate(lr).weightDecay(0).warmupRatio(WARMUP_RATIO).lrScheduler(SCHEDULE)
                .maxSteps(steps).gradientAccumulationSteps(1).maxGradNorm(MAX_GRAD_NORM).seed(seed).saveSteps(0)
                .build();
    }

    /** One micro-batch of {@code batch} conversations per step, in seeded random order, loss averaged per token. */
    FineTuneOptions options() {
        return new FineTuneOptions(batch, false, LlamaFeeds.Reduction.MEAN);
    }

    private static void atLeast(String flag, long value, long min) {
        if (value < min) {
            throw new MorException(flag + " is " + value + "; expected an integer ≥ " + min);
        }
    }
}
