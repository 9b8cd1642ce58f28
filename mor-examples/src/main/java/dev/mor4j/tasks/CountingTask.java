package dev.mor4j.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Counting occurrences: {@code Count the letter b in: abbcfbd} → {@code 3}. The string has 6 to 12 letters drawn
 * from {@code a…f} (so that letters repeat), and the letter asked for is one of those six (it may not occur).
 * Wrong answers: the count off by one, by two, and the string's length.
 */
final class CountingTask implements TaskGenerator {

    private static final int ALPHABET = 6;

    @Override
    public TaskExample draw(Random rnd) {
        String text = TaskInputs.letters(rnd, 6, 12, ALPHABET);
        char letter = (char) ('a' + rnd.nextInt(ALPHABET));
        int count = (int) text.chars().filter(c -> c == letter).count();
        int sign = rnd.nextBoolean() ? 1 : -1;
        List<String> candidates = new ArrayList<>();
        for (int delta : new int[] {sign, -sign, 2 * sign, -2 * sign}) {
            if (count + delta >= 0) {
                candidates.add(String.valueOf(count + delta));
            }
        }
        candidates.add(String.valueOf(text.length()));
        String answer = String.valueOf(count);
        return new TaskExample("Count the letter " + letter + " in: " + text, answer,
                Distractors.pick(answer, candidates, rnd, r -> String.valueOf(count + 3 + r.nextInt(5))));
    }
}
