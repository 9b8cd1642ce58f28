package dev.mor4j.tasks;

import dev.mor4j.core.MorException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a small SentencePiece-style BPE vocabulary (the LLaMA-2 kind: {@code ▁} marks spaces, bytes fall back
 * to {@code <0xNN>} tokens) from a corpus, deterministically.
 *
 * <p>Texts are normalized as the tokenizer will normalize them ({@code ▁} prepended, spaces replaced by
 * {@code ▁}). The base vocabulary is every character of the corpus, the printable ASCII characters and
 * newline. Then, in this order:
 * <ol>
 *   <li>each forced token (the chat role headers) gets the merges that build it from its first character
 *       left to right, so that it always becomes one token;</li>
 *   <li>words, maximal runs of letters optionally led by one {@code ▁} ({@code ▁?\p{L}+}, forced tokens cut
 *       out first), that occur at least {@code minWordCount} times are merged by classic BPE: repeatedly the
 *       most frequent adjacent pair (ties: the smaller left token, then the smaller right token, by
 *       {@link String#compareTo}) becomes a new token, until the vocabulary is full or no pair is left.</li>
 * </ol>
 * So digits are never merged (each digit is one token, as LLaMA's tokenizers split digits), nor punctuation,
 * and rare words (the random letter strings of the tasks) stay one character per token, while the frequent
 * words of the prompts become single tokens. Since every merge joins letters within one such word (or a
 * forced token's characters), applying the merges by rank to any text, as the HF BPE model does, never joins
 * across words.
 */
public final class BpeTrainer {

    /** The space marker. */
    public static final String SPACE = "\u2581";
    /** Vocabulary entries before the characters: {@code <unk>}, {@code <s>}, {@code </s>} and 256 byte tokens. */
    public static final int RESERVED = 3 + 256;

    private static final Pattern WORD = Pattern.compile(SPACE + "?\\p{L}+");

    /**
     * A trained vocabulary (without the reserved tokens).
     *
     * @param tokens the characters, then the tokens the merges make, in order of their first appearance
     * @param merges the merges by rank, each {@code [left, right]}
     */
    public record Vocabulary(List<String> tokens, List<String[]> merges) {
        public Vocabulary {
            tokens = List.copyOf(tokens);
            merges = List.copyOf(merges);
        }
    }

    private final int vocabSize;
    private final int minWordCount;
    private final List<String> forcedTokens;

    /**
     * @param vocabSize    the most tokens in all, {@link #RESERVED} included
     * @param minWordCount words rarer than this are not merged
     * @param forcedTokens tokens that must come out whole (no spaces in them)
     */
    public BpeTrainer(int vocabSize, int minWordCount, List<String> forcedTokens) {
        if (minWordCount < 2) {
            throw new MorException("the minimum word count must be at least 2, got " + minWordCount);
        }
        for (String t : forcedTokens) {
            if (t.length() < 2 || t.contains(" ") || t.contains(SPACE)) {
                throw new MorException("forced token \"" + t + "\" must have 2 or more characters and no space");
            }
        }
        this.vocabSize = vocabSize;
        this.minWordCount = minWordCount;
        this.forcedTokens = List.copyOf(forcedTokens);
    }

    /** The text as the tokenizer's normalizer makes it: {@code ▁} in front and for every space. */
    public static String normalize(String text) {
        return SPACE + text.replace(" ", SPACE);
    }

    /**
     * @throws MorException when the vocabulary size does not leave room for the characters and forced tokens
     */
    public Vocabulary train(Iterable<String> texts) {
        Set<Integer> alphabet = new TreeSet<>();
        for (int c = 0x21; c <= 0x7E; c++) {
            alphabet.add(c);
        }
        alphabet.add((int) '\n');
        alphabet.add(SPACE.codePointAt(0));
        Map<String, Long> wordCounts = new TreeMap<>();
        for (String text : texts) {
            String normalized = normalize(text);
            normalized.codePoints().forEach(alphabet::add);
            countWords(normalized, wordCounts);
        }
        forcedTokens.forEach(t -> t.codePoints().forEach(alphabet::add));
        Set<String> vocab = new LinkedHashSet<>();
        alphabet.forEach(c -> vocab.add(Character.toString(c)));
        List<String[]> merges = new ArrayList<>();
        for (String forced : forcedTokens) {
            int[] cps = forced.codePoints().toArray();
            String current = Character.toString(cps[0]);
            for (int i = 1; i < cps.length; i++) {
                String next = Character.toString(cps[i]);
                if (vocab.add(current + next)) {
                    merges.add(new String[] {current, next});
                }
                current = current + next;
            }
        }
        if (RESERVED + vocab.size() > vocabSize) {
            throw new MorException("a vocabulary of " + vocabSize + " tokens has no room for the " + RESERVED
                    + " special and byte tokens, " + alphabet.size() + " characters and "
                    + (vocab.size() - alphabet.size()) + " tokens of the chat headers; ask for at least "
                    + (RESERVED + vocab.size()));
        }
        List<List<String>> words = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        wordCounts.forEach((word, count) -> {
            if (count >= minWordCount) {
                List<String> symbols = new ArrayList<>();
                word.codePoints().forEach(c -> symbols.add(Character.toString(c)));
                words.add(symbols);
                counts.add(count);
            }
        });
        while (RESERVED + vocab.size() < vocabSize) {
            String[] best = mostFrequentPair(words, counts);
            if (best == null) {
                break;
            }
            merges.add(best);
            vocab.add(best[0] + best[1]);
            for (List<String> w : words) {
                apply(w, best[0], best[1]);
            }
        }
        return new Vocabulary(new ArrayList<>(vocab), merges);
    }

    private void countWords(String normalized, Map<String, Long> wordCounts) {
        String text = normalized;
        for (String forced : forcedTokens) {
            text = text.replace(forced, "\n");
        }
        Matcher m = WORD.matcher(text);
        while (m.find()) {
            wordCounts.merge(m.group(), 1L, Long::sum);
        }
    }

    /** The most frequent adjacent pair, weighted by word counts; ties by the tokens' order; null when none. */
    private static String[] mostFrequentPair(List<List<String>> words, List<Long> counts) {
        Map<String, Map<String, Long>> pairs = new TreeMap<>();
        for (int i = 0; i < words.size(); i++) {
            List<String> w = words.get(i);
            for (int j = 0; j + 1 < w.size(); j++) {
                pairs.computeIfAbsent(w.get(j), k -> new TreeMap<>()).merge(w.get(j + 1), counts.get(i), Long::sum);
            }
        }
        String[] best = null;
        long bestCount = 0;
        for (Map.Entry<String, Map<String, Long>> left : pairs.entrySet()) {
            for (Map.Entry<String, Long> right : left.getValue().entrySet()) {
                if (right.getValue() > bestCount) { // strictly: the first in (left, right) order wins ties
                    bestCount = right.getValue();
                    best = new String[] {left.getKey(), right.getKey()};
                }
            }
        }
        return best;
    }

    /** Replaces every non-overlapping occurrence of {@code left, right}, scanning left to right. */
    private static void apply(List<String> word, String left, String right) {
        for (int j = 0; j + 1 < word.size(); j++) {
            if (word.get(j).equals(left) && word.get(j + 1).equals(right)) {
                word.set(j, left + right);
                word.remove(j + 1);
            }
        }
    }
}
