package dev.mor4j.llama.tokenizer;

/**
 * The pre-tokens of one piece of text between added tokens, for a tokenizer whose pre-tokens are LLaMA-3's
 * ({@link Tokenizer#piecesResumable()}), kept so that a prefix ending inside the piece reuses them: the prefix's
 * pre-tokens are the piece's own up to the last one whose match looked only at characters inside the prefix
 * ({@link Llama3Splitter#readEnd}), and the splitter, having no look-behind, resumes there as on a text of its
 * own. Only the rest, a pre-token or two, is tokenized again.
 */
final class ResumablePieces {

    private final String text;
    private final int start;
    private final BpeModel model;
    /** End of pre-token {@code k}. */
    private final int[] ends;
    /** Tokens of the piece through pre-token {@code k}. */
    private final int[] tokensThrough;
    /** The largest {@link Llama3Splitter#readEnd} of pre-tokens {@code 0..k}: nondecreasing. */
    private final int[] readThrough;

    /**
     * Splits and tokenizes {@code text[start, end)}.
     *
     * @param out receives the tokens of the whole piece
     */
    ResumablePieces(String text, int start, int end, BpeModel model, TokenBuffer out) {
        this.text = text;
        this.start = start;
        this.model = model;
        int before = out.size();
        IntList pieceEnds = new IntList(16);
        Llama3WordEncoder.encode(text, start, end, model, out, pieceEnds);
        int n = pieceEnds.size() / 2;
        ends = new int[n];
        tokensThrough = new int[n];
        readThrough = new int[n];
        int read = 0;
        int at = start;
        for (int k = 0; k < n; k++) {
            ends[k] = pieceEnds.get(2 * k);
            tokensThrough[k] = pieceEnds.get(2 * k + 1) - before;
            read = Math.max(read, Llama3Splitter.readEnd(text, at, ends[k], end));
            readThrough[k] = read;
            at = ends[k];
        }
    }

    /**
     * The number of tokens of {@code text[start, end)} taken as a piece of its own, as the prefix of the text
     * that ends at {@code end} has it.
     */
    int count(int end) {
        int k = lastReadWithin(end);
        int from = k < 0 ? start : ends[k];
        TokenBuffer tail = new TokenBuffer(8);
        Llama3WordEncoder.encode(text, from, end, model, tail, null);
        return (k < 0 ? 0 : tokensThrough[k]) + tail.size();
    }

    /** The last pre-token whose match, and those before it, looked at nothing at or after {@code end}; or -1. */
    private int lastReadWithin(int end) {
        int lo = 0;
        int hi = readThrough.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (readThrough[mid] <= end) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }
}
