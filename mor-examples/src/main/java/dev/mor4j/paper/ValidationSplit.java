package dev.mor4j.paper;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodedExample;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The split of the training examples that chooses the learning rates: for every task ({@code dataset}), the last
 * {@code max(1, round(fraction · n))} of its n examples in file order are held out for validation, the rest are
 * trained on by the search runs. Deterministic (file order only), never touching the test files; the final runs
 * train on every example.
 *
 * @param train      the examples the search runs train on, in file order
 * @param validation the held-out examples, in file order
 */
public record ValidationSplit(List<EncodedExample> train, List<EncodedExample> validation) {

    public ValidationSplit {
        train = List.copyOf(train);
        validation = List.copyOf(validation);
    }

    /**
     * Splits {@code examples}.
     *
     * @throws MorException when a task has fewer than two examples (nothing would be left to train on)
     */
    public static ValidationSplit of(List<EncodedExample> examples, double fraction) {
        Map<String, List<Integer>> byTask = new LinkedHashMap<>(); // task → indices in file order
        for (int i = 0; i < examples.size(); i++) {
            byTask.computeIfAbsent(examples.get(i).dataset(), k -> new ArrayList<>()).add(i);
        }
        Set<Integer> held = new HashSet<>();
        byTask.forEach((task, indices) -> {
            if (indices.size() < 2) {
                throw new MorException("task '" + task + "' has " + indices.size() + " training example(s); holding"
                        + " out a validation split needs at least 2");
            }
            int n = (int) Math.max(1, Math.round(fraction * indices.size()));
            n = Math.min(n, indices.size() - 1);
            held.addAll(indices.subList(indices.size() - n, indices.size()));
        });
        List<EncodedExample> train = new ArrayList<>();
        List<EncodedExample> validation = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            (held.contains(i) ? validation : train).add(examples.get(i));
        }
        return new ValidationSplit(train, validation);
    }
}
