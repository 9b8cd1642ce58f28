package dev.mor4j.tasks;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The operations of the pre-training corpus. Each works on inputs drawn exactly like the inputs of a benchmark
 * task ({@link TaskInputs}) but asks for something else, so that a model pre-trained on them knows the chat
 * format, digits, letter strings, lists, {@code key=value} lines and dates without having seen any answer of a
 * benchmark task:
 * <ul>
 *   <li>{@link #SUCCESSOR}: {@code What comes after 4821?} → {@code 4822} (numbers of the addition terms)</li>
 *   <li>{@link #UPPERCASE}: {@code Uppercase: qmxtra} → {@code QMXTRA} (the reversal strings)</li>
 *   <li>{@link #MAXIMUM}: {@code Largest of: 42, 7, 93, 15} → {@code 93} (the sorting lists)</li>
 *   <li>{@link #LENGTH}: {@code How many letters in: abbcfbd} → {@code 7} (the counting strings)</li>
 *   <li>{@link #KEYS}: the recall lines, then {@code List the keys.} → {@code apple, river, stone}</li>
 *   <li>{@link #DATE_DOTS}: {@code Write 07/03/2021 with dots.} → {@code 07.03.2021} (the conversion dates)</li>
 * </ul>
 */
public enum PretrainOperation {
    SUCCESSOR {
        @Override
        String[] prompt(Random rnd) {
            int n = TaskInputs.number(rnd, 2, 4);
            return new String[] {"What comes after " + n + "?", String.valueOf(n + 1)};
        }
    },
    UPPERCASE {
        @Override
        String[] prompt(Random rnd) {
            String word = TaskInputs.letters(rnd, 4, 7, 26);
            return new String[] {"Uppercase: " + word, word.toUpperCase(Locale.ROOT)};
        }
    },
    MAXIMUM {
        @Override
        String[] prompt(Random rnd) {
            List<Integer> numbers = TaskInputs.numbers(rnd, 4, 6, 100);
            return new String[] {"Largest of: " + TaskInputs.list(numbers), String.valueOf(Collections.max(numbers))};
        }
    },
    LENGTH {
        @Override
        String[] prompt(Random rnd) {
            String text = TaskInputs.letters(rnd, 6, 12, 6);
            return new String[] {"How many letters in: " + text, String.valueOf(text.length())};
        }
    },
    KEYS {
        @Override
        String[] prompt(Random rnd) {
            Map<String, Integer> pairs = TaskInputs.pairs(rnd, 3, 5);
            return new String[] {TaskInputs.keyValueLines(pairs) + "\nList the keys.",
                TaskInputs.list(new ArrayList<>(pairs.keySet()))};
        }
    },
    DATE_DOTS {
        @Override
        String[] prompt(Random rnd) {
            LocalDate date = TaskInputs.date(rnd);
            String dmy = TaskInputs.dayMonthYear(date);
            return new String[] {"Write " + dmy + " with dots.", dmy.replace('/', '.')};
        }
    };

    /** A prompt and its answer. */
    abstract String[] prompt(Random rnd);

    /** A prompt and its answer as an example without distractors. */
    TaskExample draw(Random rnd) {
        String[] pa = prompt(rnd);
        return new TaskExample(pa[0], pa[1], List.of());
    }

    /** The Tulu {@code dataset} of its conversations, e.g. {@code pretrain-date-dots}. */
    public String datasetName() {
        return "pretrain-" + name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
