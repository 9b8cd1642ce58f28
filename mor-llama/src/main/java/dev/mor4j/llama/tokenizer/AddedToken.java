package dev.mor4j.llama.tokenizer;

/**
 * An entry of {@code added_tokens} in a {@code tokenizer.json}: a string matched as a whole in the input text
 * before the model sees it (e.g. {@code <s>} or {@code <|begin_of_text|>}).
 *
 * @param id         the token id
 * @param content    the token text
 * @param special    whether it is a special token (skipped by {@code decode(ids, true)})
 * @param singleWord matched only when not inside a word
 * @param lstrip     the match absorbs the whitespace on its left
 * @param rstrip     the match absorbs the whitespace on its right
 * @param normalized matched in the normalized text instead of the raw text
 */
record AddedToken(int id, String content, boolean special, boolean singleWord, boolean lstrip, boolean rstrip,
                  boolean normalized) {
}
