package dev.mor4j.tasks;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tokenizer of the benchmark's small model: a {@link BpeTrainer} vocabulary trained on the pre-training
 * corpus and the train splits (never the test split), written as a HF {@code tokenizer.json} in the
 * SentencePiece-BPE layout of LLaMA-2 (the layout of the {@code sp-bpe-32k} test tokenizer), which both
 * {@link dev.mor4j.llama.tokenizer.Tokenizer#load} and the HF {@code tokenizers} library read:
 * <ul>
 *   <li>ids 0, 1, 2: {@code <unk>}, {@code <s>} (BOS), {@code </s>} (EOS), special added tokens; ids 3–258 the
 *       byte tokens {@code <0x00>}…{@code <0xFF>} for characters outside the vocabulary (byte fallback); then
 *       the characters and the merged tokens;</li>
 *   <li>normalizer: prepend {@code ▁}, replace spaces by {@code ▁}; no pre-tokenizer; a post-processor that puts
 *       BOS in front; a decoder that undoes it all (so decoding what was encoded gives the text back);</li>
 *   <li>the Tulu role headers {@code <|system|>}, {@code <|user|>}, {@code <|assistant|>} are plain text that
 *       always encodes to one token each (they are not added tokens: Tulu-v2 training writes them as text).</li>
 * </ul>
 * A {@code tokenizer_config.json} beside it names BOS and EOS, which Tulu encoding and generation need.
 */
public final class TaskTokenizer {

    public static final String UNK = "<unk>";
    public static final String BOS = "<s>";
    public static final String EOS = "</s>";
    /** The chat role headers of the Tulu format, each one token. */
    public static final List<String> ROLE_HEADERS = List.of("<|system|>", "<|user|>", "<|assistant|>");
    public static final String TOKENIZER_JSON = "tokenizer.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private TaskTokenizer() {
    }

    /**
     * The texts the vocabulary is trained on: every pre-training and train conversation as Tulu-v2 training
     * formats it ({@code <|user|>\n{prompt}\n<|assistant|>\n{answer}}, EOS left out as it is an added token).
     */
    public static List<String> corpus(Benchmark.Splits splits) {
        List<String> texts = new ArrayList<>(splits.pretrain().size() + splits.train().size());
        splits.pretrain().forEach(i -> texts.add(BenchmarkFiles.chatContext(i.prompt()) + i.answer()));
        splits.train().forEach(i -> texts.add(BenchmarkFiles.chatContext(i.prompt()) + i.answer()));
        return texts;
    }

    /** Trains the vocabulary on {@link #corpus}. */
    public static BpeTrainer.Vocabulary train(Benchmark.Splits splits, int vocabSize, int minWordCount) {
        return new BpeTrainer(vocabSize, minWordCount, ROLE_HEADERS).train(corpus(splits));
    }

    /** Writes {@value #TOKENIZER_JSON} and {@value #TOKENIZER_CONFIG} into {@code dir} (created when missing). */
    public static void write(BpeTrainer.Vocabulary vocabulary, Path dir) {
        ObjectWriter pretty = JSON.writer(new DefaultPrettyPrinter()
                .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                .withArrayIndenter(new DefaultIndenter("  ", "\n")));
        write(dir.resolve(TOKENIZER_JSON), pretty, tokenizerJson(vocabulary));
        write(dir.resolve(TOKENIZER_CONFIG), pretty, tokenizerConfig());
    }

    static ObjectNode tokenizerJson(BpeTrainer.Vocabulary vocabulary) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        List<String> specials = List.of(UNK, BOS, EOS);
        for (int id = 0; id < specials.size(); id++) {
            added.addObject().put("id", id).put("content", specials.get(id)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        ArrayNode normalizers = root.putObject("normalizer").put("type", "Sequence").putArray("normalizers");
        normalizers.addObject().put("type", "Prepend").put("prepend", BpeTrainer.SPACE);
        ObjectNode replace = normalizers.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", BpeTrainer.SPACE);
        root.putNull("pre_tokenizer");
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode bos = post.putObject("special_tokens").putObject(BOS);
        bos.put("id", BOS);
        bos.putArray("ids").add(1);
        bos.putArray("tokens").add(BOS);
        ArrayNode decoders = root.putObject("decoder").put("type", "Sequence").putArray("decoders");
        ObjectNode unspace = decoders.addObject().put("type", "Replace");
        unspace.putObject("pattern").put("String", BpeTrainer.SPACE);
        unspace.put("content", " ");
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", UNK);
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        specials.forEach(t -> vocab.put(t, vocab.size()));
        for (int b = 0; b < 256; b++) {
            vocab.put(String.format(Locale.ROOT, "<0x%02X>", b), vocab.size());
        }
        for (String t : vocabulary.tokens()) {
            if (vocab.has(t)) {
                throw new MorException("token \"" + t + "\" of the trained vocabulary clashes with a reserved token");
            }
            vocab.put(t, vocab.size());
        }
        ArrayNode merges = model.putArray("merges");
        vocabulary.merges().forEach(m -> merges.add(m[0] + " " + m[1]));
        return root;
    }

    static ObjectNode tokenizerConfig() {
        ObjectNode root = JSON.createObjectNode();
        root.put("add_bos_token", true);
        root.put("add_eos_token", false);
        ObjectNode decoder = root.putObject("added_tokens_decoder");
        List<String> specials = List.of(UNK, BOS, EOS);
        for (int id = 0; id < specials.size(); id++) {
            decoder.putObject(String.valueOf(id)).put("content", specials.get(id)).put("lstrip", false)
                    .put("normalized", false).put("rstrip", false).put("single_word", false).put("special", true);
        }
        root.put("bos_token", BOS);
        root.put("eos_token", EOS);
        root.put("unk_token", UNK);
        root.putNull("pad_token");
        root.put("clean_up_tokenization_spaces", false);
        root.put("legacy", true);
        root.put("tokenizer_class", "PreTrainedTokenizerFast");
        return root;
    }

    private static void write(Path file, ObjectWriter writer, ObjectNode json) {
        try {
            AtomicFiles.writeString(file, writer.writeValueAsString(json) + "\n");
        } catch (IOException e) {
            throw new MorException(file + ": cannot write: " + e.getMessage(), e);
        }
    }
}
