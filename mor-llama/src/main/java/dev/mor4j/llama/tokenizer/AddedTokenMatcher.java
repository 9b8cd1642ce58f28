package dev.mor4j.llama.tokenizer;

import dev.mor4j.llama.tokenizer.AddedVocabulary.Segment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Leftmost-longest matching of the added tokens in a text, with the {@code single_word}, {@code lstrip} and
 * {@code rstrip} rules of the reference implementation: at each position the longest entry that starts there
 * (the first one given, among entries with the same text) is a match, and matching resumes after it. The
 * entries are kept in a trie, so a position is passed over with one array lookup unless an entry starts with
 * its character.
 */
final class AddedTokenMatcher {

    private static final Pattern WORD_CHAR = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);

    /** An entry: the text to find, and the token it stands for. */
    record Entry(String text, AddedToken token) {
    }

    /** A trie node: the entry whose text ends here, if any, and the nodes one UTF-16 unit further. */
    private static final class Node {
        private char[] labels = new char[0];
        private Node[] children = new Node[0];
        Entry entry;

        /** The child reached by {@code c}, or null. */
        Node child(char c) {
            char[] l = labels;
            for (int k = 0; k < l.length; k++) {
                if (l[k] == c) {
                    return children[k];
                }
            }
            return null;
        }

        Node childOrNew(char c) {
            Node child = child(c);
            if (child == null) {
                child = new Node();
                labels = Arrays.copyOf(labels, labels.length + 1);
                children = Arrays.copyOf(children, children.length + 1);
                labels[labels.length - 1] = c;
                children[children.length - 1] = child;
            }
            return child;
        }
    }

    private final Node root = new Node();
    private final boolean keepsEveryMatch;
    /** The first UTF-16 units of the entries. */
    private final boolean[] firstChars = new boolean[Character.MAX_VALUE + 1];

    AddedTokenMatcher(List<Entry> entries) {
        keepsEveryMatch = entries.stream().noneMatch(e -> e.token().singleWord());
        for (Entry e : entries) {
            Node node = root;
            for (int k = 0; k < e.text().length(); k++) {
                node = node.childOrNew(e.text().charAt(k));
            }
            if (node.entry == null) {
                node.entry = e;
            }
            firstChars[e.text().charAt(0)] = true;
        }
    }

    /**
     * Whether every match is kept: no entry is {@code single_word}. Then a stretch of text in which no match was
     * found has no match in any prefix of the text either.
     */
    boolean keepsEveryMatch() {
        return keepsEveryMatch;
    }

    /** Whether there is nothing to match. */
    boolean isEmpty() {
        return root.children.length == 0;
    }

    /** Splits {@code text[from, to)}, as if the text ended at {@code to}; matching starts at {@code from}. */
    List<Segment> split(String text, int from, int to, boolean atOrigin) {
        List<Segment> out = new ArrayList<>();
        int startOffset = from;
        int i = from;
        while (root.children.length > 0 && i < to) {
            Entry match = longestAt(text, i, to);
            if (match == null) {
                i++;
                continue;
            }
            int start = i;
            int stop = i + match.text().length();
            i = stop; // matching resumes after the match itself, whatever stripping does below
            AddedToken token = match.token();
            if (token.singleWord() && !isSingleWord(text, start, stop, to)) {
                continue;
            }
            if (token.lstrip()) {
                start = Math.max(whitespaceStartBefore(text, start), startOffset);
            }
            if (token.rstrip()) {
                stop = whitespaceEndAfter(text, stop, to);
            }
            if (startOffset < start) {
                out.add(segment(text, startOffset, start, null, atOrigin));
            }
            out.add(segment(text, start, stop, token, atOrigin));
            startOffset = stop;
        }
        if (startOffset < to) {
            out.add(segment(text, startOffset, to, null, atOrigin));
        }
        return out;
    }

    private static Segment segment(String text, int start, int end, AddedToken token, boolean atOrigin) {
        return new Segment(text.substring(start, end), token, atOrigin && start == 0, start, end);
    }

    /** The longest entry that starts at {@code i} and ends by {@code to}, or null. */
    private Entry longestAt(String text, int i, int to) {
        if (!firstChars[text.charAt(i)]) {
            return null;
        }
        Entry longest = null;
        Node node = root;
        for (int k = i; k < to; k++) {
            node = node.child(text.charAt(k));
            if (node == null) {
                break;
            }
            if (node.entry != null) {
                longest = node.entry;
            }
        }
        return longest;
    }

    /** Neither the text before nor the text after the match continues a word (Unicode {@code \w}). */
    private static boolean isSingleWord(String text, int start, int stop, int to) {
        boolean before = start == 0 || !isWordChar(text.codePointBefore(start));
        boolean after = stop == to || !isWordChar(codePointAt(text, stop, to));
        return before && after;
    }

    /** The code point at {@code i} of {@code text[0, to)} (a high surrogate at {@code to - 1} stands alone). */
    private static int codePointAt(String text, int i, int to) {
        char c = text.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))) {
            return Character.toCodePoint(c, text.charAt(i + 1));
        }
        return c;
    }

    private static boolean isWordChar(int cp) {
        return WORD_CHAR.matcher(Character.toString(cp)).matches();
    }

    /** The Unicode White_Space property, as the reference's regex {@code \s}. */
    private static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    private static int whitespaceStartBefore(String text, int start) {
        int i = start;
        while (i > 0 && isWhiteSpace(text.codePointBefore(i))) {
            i -= Character.charCount(text.codePointBefore(i));
        }
        return i;
    }

    private static int whitespaceEndAfter(String text, int stop, int to) {
        int i = stop;
        while (i < to && isWhiteSpace(text.charAt(i))) { // every White_Space character is in the BMP
            i++;
        }
        return i;
    }
}
