package dev.mor4j.tasks;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * The inputs the benchmark tasks and the pre-training corpus are drawn from, and how they are written: numbers,
 * letter strings, lists of numbers, {@code key=value} lines and dates. Tasks and corpus draw from the same
 * distributions so that pre-training makes the model fluent in the formats; only the operations differ.
 */
final class TaskInputs {

    /** The keys of {@code key=value} lines: short common nouns. */
    static final List<String> KEYS = List.of("apple", "river", "stone", "cloud", "tiger", "lemon", "piano",
            "candle", "forest", "rocket", "silver", "garden", "window", "pepper", "anchor", "violet", "marble",
            "island", "copper", "falcon", "meadow", "harbor", "winter", "saddle");

    /** Dates are drawn uniformly from this range. */
    static final LocalDate FIRST_DATE = LocalDate.of(1950, 1, 1);
    static final LocalDate LAST_DATE = LocalDate.of(2049, 12, 31);

    private static final DateTimeFormatter DAY_MONTH_YEAR = DateTimeFormatter.ofPattern("dd/MM/uuuu");
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("uuuu-MM-dd");

    private TaskInputs() {
    }

    /** A number of {@code minDigits…maxDigits} digits (the count uniform, then the value uniform among them). */
    static int number(Random rnd, int minDigits, int maxDigits) {
        int digits = minDigits + rnd.nextInt(maxDigits - minDigits + 1);
        int low = digits == 1 ? 0 : (int) Math.pow(10, digits - 1);
        int high = (int) Math.pow(10, digits); // exclusive
        return low + rnd.nextInt(high - low);
    }

    /** {@code minLength…maxLength} letters drawn uniformly from the first {@code alphabet} lowercase letters. */
    static String letters(Random rnd, int minLength, int maxLength, int alphabet) {
        int n = minLength + rnd.nextInt(maxLength - minLength + 1);
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append((char) ('a' + rnd.nextInt(alphabet)));
        }
        return sb.toString();
    }

    /** {@code minCount…maxCount} numbers in {@code [0, bound)}. */
    static List<Integer> numbers(Random rnd, int minCount, int maxCount, int bound) {
        int n = minCount + rnd.nextInt(maxCount - minCount + 1);
        List<Integer> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(rnd.nextInt(bound));
        }
        return out;
    }

    /** A list written as {@code 42, 7, 93}. */
    static String list(List<?> items) {
        return items.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }

    /** {@code minPairs…maxPairs} distinct keys of {@link #KEYS} with two-digit values, in drawing order. */
    static Map<String, Integer> pairs(Random rnd, int minPairs, int maxPairs) {
        int n = minPairs + rnd.nextInt(maxPairs - minPairs + 1);
        List<String> keys = new ArrayList<>(KEYS);
        Map<String, Integer> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            out.put(keys.remove(rnd.nextInt(keys.size())), 10 + rnd.nextInt(90));
        }
        return out;
    }

    /** {@code key=value} lines, one per pair, joined by newlines (no newline at the end). */
    static String keyValueLines(Map<String, Integer> pairs) {
        return pairs.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n"));
    }

    /** A date uniform in {@link #FIRST_DATE}…{@link #LAST_DATE}. */
    static LocalDate date(Random rnd) {
        long days = LAST_DATE.toEpochDay() - FIRST_DATE.toEpochDay() + 1;
        return LocalDate.ofEpochDay(FIRST_DATE.toEpochDay() + rnd.nextInt((int) days));
    }

    /** {@code DD/MM/YYYY}, e.g. {@code 07/03/2021}. */
    static String dayMonthYear(LocalDate date) {
        return DAY_MONTH_YEAR.format(date);
    }

    /** {@code YYYY-MM-DD}, e.g. {@code 2021-03-07}. */
    static String iso(LocalDate date) {
        return ISO.format(date);
    }
}
