package dev.mor4j.llama.generate;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.adapter.TaskSelection;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaGraph;
import dev.mor4j.llama.model.LlamaWeights;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Generates text from a prompt: greedy, or sampled at a temperature from the top-p nucleus with a seed; up to a
 * number of new tokens, stopping at EOS.
 *
 * <p>The model runs through a {@link LogitsStepper}: {@link #withKvCache} (the default way: the prompt is
 * computed once and each new token is one single-position pass) or {@link #recomputing} (the whole sequence
 * again at each step; for reference and timing). Either builds its graphs once, so one generator serves any
 * number of prompts, one at a time (it is not thread-safe).
 *
 * <p>EOS is every id in the model config's {@code eos_token_id} and the tokenizer's EOS token.
 */
public final class Generator {

    /** Receives each step's logits and the token chosen from them. */
    @FunctionalInterface
    public interface StepListener {
        /**
         * @param step   0 for the first new token
         * @param logits {@code [V]} the logits it was chosen from (do not keep: may be reused)
         * @param token  the chosen id
         */
        void onStep(int step, float[] logits, int token);
    }

    private final LogitsStepper stepper;
    private final Tokenizer tokenizer;
    private final Set<Integer> eosIds;

    /**
     * @param tokenizer encodes prompts and decodes answers; null to work on ids only
     * @param eosIds    ids that end generation
     */
    public Generator(LogitsStepper stepper, Tokenizer tokenizer, Set<Integer> eosIds) {
        this.stepper = stepper;
        this.tokenizer = tokenizer;
        this.eosIds = Set.copyOf(eosIds);
    }

    /**
     * A generator with a key/value cache.
     *
     * @param adapters  adapters to apply, or null for the base model
     * @param tokenizer may be null to work on ids only
     */
    public static Generator withKvCache(LlamaWeights weights, LlamaAdapters adapters, Tokenizer tokenizer) {
        return withKvCache(weights, adapters, tokenizer, null);
    }

    /**
     * A generator with a key/value cache for a MoRE adapter.
     *
     * @param tasks chooses each prompt's task ({@link TaskSelection#fixed}, or {@code --task auto}'s
     *              {@link dev.mor4j.llama.adapter.TaskPicker#selection}); null for adapters without tasks
     */
    public static Generator withKvCache(LlamaWeights weights, LlamaAdapters adapters, Tokenizer tokenizer,
            TaskSelection tasks) {
        KvCacheForward forward = adapters == null ? new KvCacheForward(weights) : new KvCacheForward(weights, adapters);
        return new Generator(new KvCacheStepper(forward, tasks), tokenizer, eosIds(weights, tokenizer));
    }

    /** A generator that recomputes the whole sequence for every token (no cache). */
    public static Generator recomputing(LlamaWeights weights, LlamaAdapters adapters, Tokenizer tokenizer) {
        return recomputing(weights, adapters, tokenizer, null);
    }

    /** As {@link #recomputing(LlamaWeights, LlamaAdapters, Tokenizer)}, choosing a MoRE adapter's tasks. */
    public static Generator recomputing(LlamaWeights weights, LlamaAdapters adapters, Tokenizer tokenizer,
            TaskSelection tasks) {
        LlamaGraph graph = adapters == null ? LlamaGraph.base(weights, GraphKind.INFERENCE)
                : adapters.graph(weights, GraphKind.INFERENCE);
        return new Generator(new RecomputingStepper(graph, tasks), tokenizer, eosIds(weights, tokenizer));
    }

    /** The config's {@code eos_token_id}s and the tokenizer's EOS id. */
    public static Set<Integer> eosIds(LlamaWeights weights, Tokenizer tokenizer) {
        Set<Integer> ids = new LinkedHashSet<>(weights.config().eosTokenIds());
        if (tokenizer != null) {
            tokenizer.eosId().ifPresent(ids::add);
        }
        return ids;
    }

    /** Answers one user prompt in the Tulu chat format ({@link ChatTemplate#tulu(Tokenizer, String)}), with BOS. */
    public GenerationResult chat(String prompt, GenerationConfig config) {
        return complete(ChatTemplate.tulu(requireTokenizer(), prompt), config);
    }

    /** Continues a text as it is (no chat template), tokenized with the tokenizer's special tokens (BOS). */
    public GenerationResult complete(String text, GenerationConfig config) {
        int[] ids = requireTokenizer().encode(text, true);
        if (ids.length == 0) {
            throw new MorException("the prompt is empty and the tokenizer adds no BOS token: nothing to continue");
        }
        return generate(ids, config, null);
    }

    /**
     * Continues a sequence of ids.
     *
     * @param listener told each step's logits and choice; may be null
     * @throws MorException when the prompt is empty or already fills {@code max_position_embeddings}
     */
    public GenerationResult generate(int[] promptIds, GenerationConfig config, StepListener listener) {
        if (promptIds.length == 0) {
            throw new MorException("the prompt has no token");
        }
        if (promptIds.length >= stepper.maxLength()) {
            throw new MorException("the prompt has " + promptIds.length + " tokens: no room to generate within "
                    + "max_position_embeddings (" + stepper.maxLength() + ")");
        }
        Sampler sampler = new Sampler(config);
        int[] out = new int[config.maxNewTokens()];
        int n = 0;
        long t0 = System.nanoTime();
        // the prompt and every new token but the last, which is chosen but never fed
        float[] logits = stepper.start(promptIds,
                (int) Math.min(Integer.MAX_VALUE, (long) promptIds.length + config.maxNewTokens() - 1));
        long prefill = System.nanoTime() - t0;
        long t1 = System.nanoTime();
        StopReason reason;
        while (true) {
            int token = sampler.next(logits);
            if (listener != null) {
                listener.onStep(n, logits, token);
            }
            out[n++] = token;
            if (eosIds.contains(token)) {
                reason = StopReason.EOS;
                break;
            }
            if (n == config.maxNewTokens()) {
                reason = StopReason.MAX_NEW_TOKENS;
                break;
            }
            if (stepper.length() + 1 > stepper.maxLength()) {
                reason = StopReason.MAX_POSITIONS;
                break;
            }
            logits = stepper.append(token);
        }
        long decode = System.nanoTime() - t1;
        int[] ids = Arrays.copyOf(out, n);
        String text = tokenizer == null ? "" : tokenizer.decode(ids, true);
        return new GenerationResult(promptIds.clone(), ids, text, reason, prefill, decode);
    }

    private Tokenizer requireTokenizer() {
        if (tokenizer == null) {
            throw new IllegalStateException("this generator has no tokenizer: use generate(ids, ...)");
        }
        return tokenizer;
    }

    public LogitsStepper stepper() {
        return stepper;
    }
}
