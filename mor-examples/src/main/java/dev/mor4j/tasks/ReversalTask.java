package dev.mor4j.tasks;

import java.util.List;
import java.util.Random;

/**
 * String reversal: {@code Reverse: qmxtra} → {@code artxmq}, 4 to 7 letters drawn from all 26. Wrong answers: the
 * reversal with two neighbouring letters swapped, a partial reversal (only the last letters reversed and moved
 * to the front), and the string unchanged.
 */
final class ReversalTask implements TaskGenerator {

    @Override
    public TaskExample draw(Random rnd) {
        String word = TaskInputs.letters(rnd, 4, 7, 26);
        String reversed = reverse(word);
        int half = word.length() / 2;
        List<String> candidates = List.of(
                swapNeighbours(reversed, 1 + rnd.nextInt(reversed.length() - 2)),
                reverse(word.substring(half)) + word.substring(0, half),
                word,
                swapNeighbours(reversed, 0));
        return new TaskExample("Reverse: " + word, reversed,
                Distractors.pick(reversed, candidates, rnd, r -> swapNeighbours(reversed, r.nextInt(reversed.length() - 1))
                        + (r.nextBoolean() ? "" : String.valueOf((char) ('a' + r.nextInt(26))))));
    }

    static String reverse(String s) {
        return new StringBuilder(s).reverse().toString();
    }

    /** {@code s} with the letters at {@code i} and {@code i + 1} swapped. */
    static String swapNeighbours(String s, int i) {
        char[] c = s.toCharArray();
        char t = c[i];
        c[i] = c[i + 1];
        c[i + 1] = t;
        return new String(c);
    }
}
