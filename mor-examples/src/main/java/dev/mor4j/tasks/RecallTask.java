package dev.mor4j.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Key–value recall from the context: three to five {@code key=value} lines, then {@code What is river?} →
 * {@code 17}. Keys are common nouns ({@link TaskInputs#KEYS}), values two-digit numbers. Wrong answers: the
 * values of the other keys (the model read the wrong line), then the value off by one.
 */
final class RecallTask implements TaskGenerator {

    @Override
    public TaskExample draw(Random rnd) {
        Map<String, Integer> pairs = TaskInputs.pairs(rnd, 3, 5);
        List<String> keys = new ArrayList<>(pairs.keySet());
        String key = keys.get(rnd.nextInt(keys.size()));
        int value = pairs.get(key);
        List<String> candidates = new ArrayList<>();
        List<String> others = new ArrayList<>(keys);
        others.remove(key);
        java.util.Collections.shuffle(others, rnd);
        for (String other : others) {
            candidates.add(String.valueOf(pairs.get(other)));
        }
        candidates.add(String.valueOf(value + (rnd.nextBoolean() ? 1 : -1)));
        String answer = String.valueOf(value);
        return new TaskExample(TaskInputs.keyValueLines(pairs) + "\nWhat is " + key + "?", answer,
                Distractors.pick(answer, candidates, rnd, r -> String.valueOf(10 + r.nextInt(90))));
    }
}
