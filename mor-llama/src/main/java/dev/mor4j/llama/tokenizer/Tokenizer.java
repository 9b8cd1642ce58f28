package dev.mor4j.llama.tokenizer;

import dev.mor4j.core.MorException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A BPE tokenizer loaded from a HF {@code tokenizer.json}, producing exactly the ids, tokens and decoded text of
 * the HF {@code tokenizers} library. It covers SentencePiece-style BPE (LLaMA-2, Mistral, TinyLlama: {@code ▁}
 * space marker, byte fallback) and byte-level BPE (LLaMA-3: GPT-2 byte alphabet, regex pre-tokenizer,
 * {@code ignore_merges}).
 *
 * <p>Encoding follows the reference pipeline: added tokens are cut out of the raw text first, each remaining piece
 * is normalized, pre-tokenized and tokenized by the BPE model, and the post-processor adds special tokens when
 * asked to. A {@code tokenizer.json} using a component that is not implemented is refused at load time.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Tokenizer {

    /** The file name looked for when {@link #load(Path)} is given a directory. */
    public static final String FILE_NAME = "tokenizer.json";

    private final Path source;
    private final BpeModel model;
    private final AddedVocabulary added;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final SpecialTokenNames specialNames;
    private final int vocabSize;
    /** Whether the pre-tokenizer is LLaMA-3's, which {@link Llama3WordEncoder} runs fused with the model. */
    private final boolean llama3Words;

    Tokenizer(Path source, BpeModel model, AddedVocabulary added, Normalizer normalizer, PreTokenizer preTokenizer,
              PostProcessor postProcessor, Decoder decoder, SpecialTokenNames specialNames) {
        this.source = source;
        this.model = model;
        this.added = added;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        this.specialNames = specialNames;
        this.llama3Words = Llama3WordEncoder.handles(preTokenizer);
        int extra = 0;
        for (AddedToken t : added.all()) {
            if (model.id(t.content()) == null) {
                extra++;
            }
        }
        this.vocabSize = model.size() + extra;
        for (String name : new String[] {specialNames.bos(), specialNames.eos()}) {
            if (name != null && tokenId(name).isEmpty()) {
                throw new MorException(source.resolveSibling(SpecialTokenNames.CONFIG_FILE) + ": special token \""
                        + name + "\" is not in the vocabulary of " + source);
            }
        }
    }

    /**
     * Loads a tokenizer.
     *
     * @param dirOrFile a {@code tokenizer.json} file, or a directory containing one (a {@code tokenizer_config.json}
     *                  beside it, when present, names the BOS and EOS tokens)
     * @throws MorException when the file is missing, not JSON, lacks the model, vocabulary or merges, or uses a
     *                      component this implementation does not support
     */
    public static Tokenizer load(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(FILE_NAME) : dirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new MorException(file + ": no such file (expected a " + FILE_NAME
                    + " file or a directory containing one)");
        }
        return TokenizerJson.read(file);
    }

    /**
     * Encodes text to token ids.
     *
     * @param addSpecialTokens whether the post-processor adds its special tokens (e.g. BOS)
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        return encodeToBuffer(text, addSpecialTokens).ids();
    }

    /** The token strings of {@link #encode(String, boolean)}, e.g. {@code ["<s>", "▁Hello", "▁world"]}. */
    public List<String> tokens(String text, boolean addSpecialTokens) {
        return List.copyOf(encodeToBuffer(text, addSpecialTokens).tokens());
    }

    /**
     * Decodes ids to text. Ids that belong to no token are skipped, as the reference implementation does.
     *
     * @param skipSpecialTokens whether special added tokens (BOS, EOS, ...) are left out
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            String token = tokenOrNull(id);
            if (token != null && !(skipSpecialTokens && added.isSpecial(token))) {
                tokens.add(token);
            }
        }
        return decoder.decode(tokens);
    }

    /** Number of tokens: the model vocabulary plus the added tokens that are not in it. */
    public int vocabSize() {
        return vocabSize;
    }

    /** The id of a token (an added token or a model token), if it exists. */
    public OptionalInt tokenId(String token) {
        AddedToken a = added.byContent(token);
        if (a != null) {
            return OptionalInt.of(a.id());
        }
        Integer id = model.id(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * The token with this id.
     *
     * @throws IllegalArgumentException when no token has this id
     */
    public String idToToken(int id) {
        String token = tokenOrNull(id);
        if (token == null) {
            throw new IllegalArgumentException("no token has id " + id + " in " + source + " (vocabulary size "
                    + vocabSize + ")");
        }
        return token;
    }

    /** Whether this id is a special added token (such as BOS or EOS). */
    public boolean isSpecial(int id) {
        String token = tokenOrNull(id);
        return token != null && added.isSpecial(token);
    }

    /** The BOS token text, when known. */
    public Optional<String> bosToken() {
        return Optional.ofNullable(specialNames.bos());
    }

    /** The EOS token text, when known. */
    public Optional<String> eosToken() {
        return Optional.ofNullable(specialNames.eos());
    }

    /** The BOS token id, when known. */
    public OptionalInt bosId() {
        return specialNames.bos() == null ? OptionalInt.empty() : tokenId(specialNames.bos());
    }

    /**
     * The BOS token id, for callers that cannot work without it.
     *
     * @param neededFor why it is needed, for the message
     * @throws MorException naming this tokenizer when the BOS token is unknown
     */
    public int requireBosId(String neededFor) {
        return bosId().orElseThrow(() -> new MorException(source()
                + ": the BOS token is unknown (expected bos_token in the tokenizer_config.json beside it); " + neededFor));
    }

    /** The EOS token id, when known. */
    public OptionalInt eosId() {
        return specialNames.eos() == null ? OptionalInt.empty() : tokenId(specialNames.eos());
    }

    /** The {@code tokenizer.json} this tokenizer was loaded from. */
    public Path source() {
        return source;
    }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", " + vocabSize + " tokens]";
    }

    private String tokenOrNull(int id) {
        String text = added.text(id);
        return text != null ? text : model.token(id);
    }

    private TokenBuffer encodeToBuffer(String text, boolean addSpecialTokens) {
        TokenBuffer out = new TokenBuffer(text.length() / 3 + 8);
        for (AddedVocabulary.Segment segment : added.splitRaw(text)) {
            encodeSegment(segment, out);
        }
        return postProcessor.process(out, addSpecialTokens);
    }

    /**
     * Encodes prefixes of one text, each exactly as {@link #encode(String, boolean)} encodes it alone, sharing the
     * work: the text between added tokens is tokenized once for the whole text, and for each prefix only the text
     * after its last added token is tokenized again. Use it where the token counts of many prefixes of a text
     * are needed (as in {@code TuluEncoder}'s label boundaries).
     *
     * @param addSpecialTokens whether the post-processor adds its special tokens to each prefix
     */
    public PrefixEncoder prefixEncoder(String text, boolean addSpecialTokens) {
        return new PrefixEncoder(this, text, addSpecialTokens);
    }

    /** The raw split of {@code text[0, to)} from {@code from} on (see {@link AddedVocabulary#splitRaw}). */
    List<AddedVocabulary.Segment> splitRaw(String text, int from, int to) {
        return added.splitRaw(text, from, to);
    }

    /** The number of tokens the post-processor adds to one sequence (it adds the same tokens to any sequence). */
    int specialTokenCount(boolean addSpecialTokens) {
        return postProcessor.process(new TokenBuffer(0), addSpecialTokens).size();
    }

    PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    BpeModel model() {
        return model;
    }

    /**
     * Whether the text between raw added tokens goes to {@link Llama3WordEncoder} as it is (no normalizer, no
     * normalized added tokens), so that a prefix of it can reuse the whole text's pre-tokens ({@link
     * ResumablePieces}).
     */
    boolean piecesResumable() {
        return llama3Words && normalizer == Normalizer.IDENTITY && !added.hasNormalizedTokens();
    }

    /** Whether every match of a raw added token is kept (no {@code single_word} tokens). */
    boolean keepsEveryAddedTokenMatch() {
        return added.keepsEveryRawMatch();
    }

    /** This tokenizer with another pre-tokenizer (the rest shared), to compare pre-tokenizers. */
    Tokenizer withPreTokenizer(PreTokenizer other) {
        return new Tokenizer(source, model, added, normalizer, other, postProcessor, decoder, specialNames);
    }

    /** {@code encoding} with the post-processor's special tokens, when asked for. */
    TokenBuffer postProcess(TokenBuffer encoding, boolean addSpecialTokens) {
        return postProcessor.process(encoding, addSpecialTokens);
    }

    /** Appends the tokens of one segment of the raw split: an added token, or text for the model. */
    void encodeSegment(AddedVocabulary.Segment segment, TokenBuffer out) {
        if (segment.token() != null) {
            out.add(segment.token().id(), segment.text());
            return;
        }
        String normalized = normalizer.normalize(segment.text());
        for (AddedVocabulary.Segment piece : added.splitNormalized(normalized, segment.atOrigin())) {
            if (piece.token() != null) {
                out.add(piece.token().id(), piece.text());
                continue;
            }
            if (llama3Words) {
                Llama3WordEncoder.encode(piece.text(), model, out);
                continue;
            }
            List<PreTokenizer.Piece> preTokens = preTokenizer.preTokenize(
                    List.of(new PreTokenizer.Piece(piece.text(), piece.atOrigin())));
            for (PreTokenizer.Piece preToken : preTokens) {
                model.tokenize(preToken.text(), out);
            }
        }
    }
}
