package dev.mor4j.llama.tokenizer;

import java.util.List;

/**
 * The encodings of the prefixes of one text: {@link #encode(int) encode(end)} is exactly
 * {@code tokenizer.encode(text.substring(0, end), addSpecialTokens)} and {@link #count(int) count(end)} its
 * length, without tokenizing the whole prefix again for each {@code end}.
 *
 * <p>Why this is exact: the text is first split around the added tokens that are matched in the raw text, and
 * each piece between them is normalized, pre-tokenized and tokenized on its own. The split of a prefix agrees
 * with the split of the whole text up to the end of any added token of the whole text's split that ends within
 * the prefix: every candidate looked at before it lies before it, the longest candidate at its own place fits
 * in the prefix, and the checks on what follows it ({@code single_word}: no word character; {@code rstrip}: the
 * whitespace it takes ends there) hold at the prefix's end as well. So the prefix's tokens are the whole text's
 * tokens up to its last such added token, followed by the tokens of the split resumed there on the prefix,
 * which is the only part tokenized again. Without such a token the prefix is encoded whole. For LLaMA-3-style
 * tokenizers a prefix that ends inside a piece also reuses that piece's pre-tokens up to the last one decided
 * within the prefix ({@link ResumablePieces}); its count then costs a pre-token or two.
 *
 * <p>The pieces of the whole text are tokenized when a prefix first needs them. Not thread-safe.
 */
public final class PrefixEncoder {

    private final Tokenizer tokenizer;
    private final String text;
    private final boolean addSpecialTokens;
    private final int specialTokens;
    private final List<AddedVocabulary.Segment> segments;
    /** The tokens of {@code segments[i]}, or null while not needed yet. */
    private final TokenBuffer[] segmentTokens;
    /** Tokens of {@code segments[0, i)}, valid for {@code i <= counted}. */
    private final int[] tokensBefore;
    private int counted;
    /** Whether a prefix ending inside a piece between added tokens can reuse its pre-tokens. */
    private final boolean resumable;
    /** The pre-tokens of {@code segments[i]} (a piece between added tokens), or null while not needed yet. */
    private final ResumablePieces[] pieces;

    PrefixEncoder(Tokenizer tokenizer, String text, boolean addSpecialTokens) {
        this.tokenizer = tokenizer;
        this.text = text;
        this.addSpecialTokens = addSpecialTokens;
        this.specialTokens = tokenizer.specialTokenCount(addSpecialTokens);
        this.segments = tokenizer.splitRaw(text, 0, text.length());
        this.segmentTokens = new TokenBuffer[segments.size()];
        this.tokensBefore = new int[segments.size() + 1];
        this.resumable = tokenizer.piecesResumable();
        this.pieces = new ResumablePieces[segments.size()];
    }

    /** The text whose prefixes are encoded. */
    public String text() {
        return text;
    }

    /**
     * The ids of {@code text.substring(0, end)}, as {@link Tokenizer#encode(String, boolean)} gives them.
     *
     * @throws IndexOutOfBoundsException when {@code end} is not within {@code [0, text.length()]}
     */
    public int[] encode(int end) {
        int resume = resumeSegment(end);
        TokenBuffer out = new TokenBuffer(end / 3 + 8);
        for (int i = 0; i < resume; i++) {
            TokenBuffer s = tokensOf(i);
            out.addAll(s);
        }
        appendTail(resume, end, out);
        return tokenizer.postProcess(out, addSpecialTokens).ids();
    }

    /**
     * The number of ids of {@code text.substring(0, end)}: {@code encode(end).length}.
     *
     * @throws IndexOutOfBoundsException when {@code end} is not within {@code [0, text.length()]}
     */
    public int count(int end) {
        int resume = resumeSegment(end);
        countThrough(resume);
        int from = resume == 0 ? 0 : segments.get(resume - 1).end();
        boolean insidePiece = resumable && from < end && resume < segments.size()
                && segments.get(resume).token() == null && segments.get(resume).start() == from
                && end <= segments.get(resume).end();
        if (insidePiece && tokenizer.keepsEveryAddedTokenMatch()) {
            // The prefix ends inside the whole text's next piece, where no added token was found: the prefix
            // finds none there either, so its text from there on is a piece of the whole text's, whose
            // pre-tokens it reuses.
            return tokensBefore[resume] + piecesOf(resume).count(end) + specialTokens;
        }
        List<AddedVocabulary.Segment> tail = tokenizer.splitRaw(text, from, end);
        if (insidePiece && tail.size() == 1 && tail.get(0).token() == null) {
            return tokensBefore[resume] + piecesOf(resume).count(end) + specialTokens;
        }
        TokenBuffer tokens = new TokenBuffer(16);
        for (AddedVocabulary.Segment s : tail) {
            tokenizer.encodeSegment(s, tokens);
        }
        return tokensBefore[resume] + tokens.size() + specialTokens;
    }

    /**
     * The number of leading segments of the whole text that the prefix ending at {@code end} shares: those up to
     * and including the last added token that ends within it (0 when there is none).
     */
    private int resumeSegment(int end) {
        if (end < 0 || end > text.length()) {
            throw new IndexOutOfBoundsException("prefix end " + end + " outside [0, " + text.length() + "]");
        }
        for (int i = segments.size() - 1; i >= 0; i--) {
            AddedVocabulary.Segment s = segments.get(i);
            if (s.token() != null && s.end() <= end) {
                return i + 1;
            }
        }
        return 0;
    }

    /** Appends the tokens of the prefix's own split from segment {@code resume} on. */
    private void appendTail(int resume, int end, TokenBuffer out) {
        int from = resume == 0 ? 0 : segments.get(resume - 1).end();
        for (AddedVocabulary.Segment s : tokenizer.splitRaw(text, from, end)) {
            tokenizer.encodeSegment(s, out);
        }
    }

    private void countThrough(int segmentCount) {
        while (counted < segmentCount) {
            tokensBefore[counted + 1] = tokensBefore[counted] + tokensOf(counted).size();
            counted++;
        }
    }

    private ResumablePieces piecesOf(int i) {
        if (pieces[i] == null) {
            AddedVocabulary.Segment s = segments.get(i);
            TokenBuffer tokens = new TokenBuffer(s.text().length() / 3 + 4);
            pieces[i] = new ResumablePieces(text, s.start(), s.end(), tokenizer.model(), tokens);
            if (segmentTokens[i] == null) {
                segmentTokens[i] = tokens;
            }
        }
        return pieces[i];
    }

    private TokenBuffer tokensOf(int i) {
        if (segmentTokens[i] == null && resumable && segments.get(i).token() == null) {
            piecesOf(i); // tokenizes the piece and keeps its pre-tokens for prefixes that end inside it
        }
        if (segmentTokens[i] == null) {
            TokenBuffer b = new TokenBuffer(segments.get(i).text().length() / 3 + 4);
            tokenizer.encodeSegment(segments.get(i), b);
            segmentTokens[i] = b;
        }
        return segmentTokens[i];
    }
}
