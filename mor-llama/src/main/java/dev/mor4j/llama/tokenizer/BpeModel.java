package dev.mor4j.llama.tokenizer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of a {@code tokenizer.json}: turns one pre-token into token ids. Each character becomes the token
 * of that character (or, when the vocabulary lacks it, its UTF-8 bytes as {@code <0xXX>} tokens with byte
 * fallback, or the unknown token), then {@link BpeWord} applies the merges. With {@code ignore_merges} a pre-token
 * that is itself in the vocabulary is emitted as that token without merging. Results for short pre-tokens are
 * cached, as in the reference implementation. Thread-safe.
 */
final class BpeModel {

    /** Pre-tokens at least this long (in UTF-16 units) are not cached. */
    private static final int MAX_CACHED_LENGTH = 256;
    private static final int CACHE_CAPACITY = 10_000;

    private final Map<String, Integer> vocab;
    private final String[] tokensById;
    private final MergeTable merges;
    private final int unkId;
    private final boolean fuseUnk;
    private final int[] byteFallbackIds;
    private final boolean ignoreMerges;
    private final String continuingSubwordPrefix;
    private final String endOfWordSuffix;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    private final VocabularyIndex index;
    /** The id of each BMP character that is a token by itself, -1 for the others; null with prefix/suffix. */
    private final int[] charIds;

    /**
     * @param vocab                   token → id
     * @param tokensById              id → token (null where no token has that id)
     * @param merges                  the merge rules
     * @param unkId                   id of the unknown token, or -1 when there is none (unknown characters are
     *                                then dropped, as the reference implementation does)
     * @param fuseUnk                 whether consecutive unknown characters give a single unknown token
     * @param byteFallback            whether characters missing from the vocabulary become {@code <0xXX>} tokens
     * @param ignoreMerges            whether a pre-token found in the vocabulary is emitted whole
     * @param continuingSubwordPrefix prefix of non-initial subwords, or null
     * @param endOfWordSuffix         suffix of word-final subwords, or null
     */
    BpeModel(Map<String, Integer> vocab, String[] tokensById, MergeTable merges, int unkId, boolean fuseUnk,
             boolean byteFallback, boolean ignoreMerges, String continuingSubwordPrefix, String endOfWordSuffix) {
        this.vocab = vocab;
        this.tokensById = tokensById;
        this.merges = merges;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
        this.continuingSubwordPrefix = continuingSubwordPrefix;
        this.endOfWordSuffix = endOfWordSuffix;
        this.byteFallbackIds = byteFallback ? byteTokens(vocab) : null;
        this.index = ignoreMerges ? new VocabularyIndex(vocab) : null;
        // symbols are bare characters unless a prefix or suffix is added: then look them up by code point
        this.charIds = continuingSubwordPrefix == null && endOfWordSuffix == null ? charIds(vocab) : null;
    }

    /** Number of entries in the model's vocabulary. */
    int size() {
        return vocab.size();
    }

    /** The id of a token of the model's vocabulary, or null. */
    Integer id(String token) {
        return vocab.get(token);
    }

    /** The token with this id, or null. */
    String token(int id) {
        return id >= 0 && id < tokensById.length ? tokensById[id] : null;
    }

    /** Appends the tokens of one pre-token to {@code out}. */
    void tokenize(String word, TokenBuffer out) {
        if (word.isEmpty()) {
            return;
        }
        if (ignoreMerges) {
            Integer id = vocab.get(word);
            if (id != null) {
                out.add(id, tokensById[id]);
                return;
            }
        }
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = BpeWord.merge(initialSymbols(word), merges);
            if (word.length() < MAX_CACHED_LENGTH && cache.size() < CACHE_CAPACITY) {
                cache.put(word, ids);
            }
        }
        for (int id : ids) {
            out.add(id, tokensById[id]);
        }
    }

    /**
     * Appends the tokens of the pre-token spelled by {@code chars[0, length)}: {@link #tokenize(String, TokenBuffer)}
     * of it, with a pre-token that is itself a token found without building a string when merges are ignored.
     */
    void tokenize(char[] chars, int length, TokenBuffer out) {
        if (length == 0) {
            return;
        }
        if (index != null) {
            int id = index.id(chars, length);
            if (id >= 0) {
                out.add(id, tokensById[id]);
                return;
            }
        }
        tokenize(new String(chars, 0, length), out);
    }

    /** One symbol per character, with byte fallback and unknown-token handling. */
    private int[] initialSymbols(String word) {
        IntList symbols = new IntList(word.length());
        boolean pendingUnk = false;
        int i = 0;
        while (i < word.length()) {
            int cp = word.codePointAt(i);
            int end = i + Character.charCount(cp);
            String s = null;
            int id;
            if (charIds != null && cp < charIds.length) {
                id = charIds[cp];
            } else {
                s = symbolText(word, i, end);
                Integer found = vocab.get(s);
                id = found == null ? -1 : found;
            }
            if (id < 0 && s == null) {
                s = symbolText(word, i, end);
            }
            i = end;
            if (id >= 0) {
                if (pendingUnk) {
                    symbols.add(unkId);
                    pendingUnk = false;
                }
                symbols.add(id);
                continue;
            }
            if (byteFallbackIds != null && addBytes(s, symbols)) {
                continue;
            }
            if (unkId < 0) {
                continue;
            }
            if (pendingUnk && !fuseUnk) {
                symbols.add(unkId);
            }
            pendingUnk = true;
        }
        if (pendingUnk) {
            symbols.add(unkId);
        }
        return symbols.toArray();
    }

    /** The vocabulary string of the symbol for {@code word[i, end)}: the character with prefix or suffix. */
    private String symbolText(String word, int i, int end) {
        String s = word.substring(i, end);
        if (continuingSubwordPrefix != null && i > 0) {
            s = continuingSubwordPrefix + s;
        }
        if (endOfWordSuffix != null && end == word.length()) {
            s = s + endOfWordSuffix;
        }
        return s;
    }

    /** The id of each BMP character that is a token by itself (-1 for the others), or null (see constructor). */
    private static int[] charIds(Map<String, Integer> vocab) {
        int[] ids = new int[Character.MAX_VALUE + 1];
        java.util.Arrays.fill(ids, -1);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String token = e.getKey();
            if (token.length() == 1) { // a lone surrogate too: codePointAt gives it as it is
                ids[token.charAt(0)] = e.getValue();
            }
        }
        return ids;
    }

    /** Adds the byte tokens of {@code s}; false (adding nothing) when one of them is missing. */
    private boolean addBytes(String s, IntList symbols) {
        byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (byte b : bytes) {
            if (byteFallbackIds[b & 0xFF] < 0) {
                return false;
            }
        }
        for (byte b : bytes) {
            symbols.add(byteFallbackIds[b & 0xFF]);
        }
        return true;
    }

    private static int[] byteTokens(Map<String, Integer> vocab) {
        int[] ids = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(byteToken(b));
            ids[b] = id == null ? -1 : id;
        }
        return ids;
    }

    /** The byte-fallback token of a byte, e.g. {@code <0x0A>}. */
    static String byteToken(int b) {
        return String.format("<0x%02X>", b & 0xFF);
    }
}
