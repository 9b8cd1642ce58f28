package dev.mor4j.llama.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code decoder} of a {@code tokenizer.json}: turns token strings back into text. As in the reference
 * implementation each decoder maps a list of strings to a list of strings ({@code decode_chain}), and the
 * decoded text is the concatenation of the final list.
 */
interface Decoder {

    /** No decoder: tokens joined with spaces, as the reference implementation does. */
    Decoder NONE = tokens -> List.of(String.join(" ", tokens));

    List<String> decodeChain(List<String> tokens);

    /** The decoded text. */
    default String decode(List<String> tokens) {
        return String.join("", decodeChain(tokens));
    }

    /** {@code Sequence}: the decoders one after the other. */
    record Sequence(List<Decoder> decoders) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = tokens;
            for (Decoder d : decoders) {
                out = d.decodeChain(out);
            }
            return out;
        }
    }

    /** {@code Replace}: replaces a pattern in every token (e.g. {@code ▁} by a space). */
    record Replace(TextPattern pattern, String content) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                out.add(pattern.replaceAll(t, content));
            }
            return out;
        }
    }

    /** {@code Fuse}: concatenates all tokens into one. */
    record Fuse() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /**
     * {@code Strip}: removes up to {@code start} leading and {@code stop} trailing occurrences of a character from
     * every token.
     */
    record Strip(int content, int start, int stop) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                int[] cps = t.codePoints().toArray();
                int startCut = 0;
                while (startCut < start && startCut < cps.length && cps[startCut] == content) {
                    startCut++;
                }
                int stopCut = cps.length;
                for (int i = 0; i < stop && stopCut > startCut && cps[stopCut - 1] == content; i++) {
                    stopCut--;
                }
                out.add(new String(cps, startCut, stopCut - startCut));
            }
            return out;
        }
    }

    /**
     * {@code Metaspace}: turns the marker back into spaces; in the first token the markers are dropped unless the
     * prepend scheme is {@code never}.
     */
    record Metaspace(int replacement, MetaspacePreTokenizer.PrependScheme prependScheme) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                boolean dropMarker = i == 0 && prependScheme != MetaspacePreTokenizer.PrependScheme.NEVER;
                StringBuilder sb = new StringBuilder(tokens.get(i).length());
                tokens.get(i).codePoints().forEach(cp -> {
                    if (cp != replacement) {
                        sb.appendCodePoint(cp);
                    } else if (!dropMarker) {
                        sb.append(' ');
                    }
                });
                out.add(sb.toString());
            }
            return out;
        }
    }
}
