package dev.mor4j.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Sorting a short list: {@code Sort ascending: 42, 7, 93, 15} → {@code 7, 15, 42, 93}, 4 to 6 numbers below
 * 100. Wrong answers: the sorted list with two neighbours swapped, sorted descending, and the list as given.
 */
final class SortingTask implements TaskGenerator {

    @Override
    public TaskExample draw(Random rnd) {
        List<Integer> numbers = TaskInputs.numbers(rnd, 4, 6, 100);
        List<Integer> sorted = new ArrayList<>(numbers);
        Collections.sort(sorted);
        List<Integer> descending = new ArrayList<>(sorted);
        descending.sort(Comparator.reverseOrder());
        String answer = TaskInputs.list(sorted);
        List<String> candidates = List.of(
                TaskInputs.list(swapNeighbours(sorted, rnd.nextInt(sorted.size() - 1))),
                TaskInputs.list(descending),
                TaskInputs.list(numbers),
                TaskInputs.list(swapNeighbours(sorted, rnd.nextInt(sorted.size() - 1))));
        return new TaskExample("Sort ascending: " + TaskInputs.list(numbers), answer,
                Distractors.pick(answer, candidates, rnd, r -> TaskInputs.list(nudged(sorted, r))));
    }

    private static List<Integer> swapNeighbours(List<Integer> list, int i) {
        List<Integer> out = new ArrayList<>(list);
        Collections.swap(out, i, i + 1);
        return out;
    }

    /** The sorted list with one number changed by one (a near miss that stays a plausible list). */
    private static List<Integer> nudged(List<Integer> sorted, Random rnd) {
        List<Integer> out = new ArrayList<>(sorted);
        int i = rnd.nextInt(out.size());
        out.set(i, Math.max(0, out.get(i) + (rnd.nextBoolean() ? 1 : -1)));
        return out;
    }
}
