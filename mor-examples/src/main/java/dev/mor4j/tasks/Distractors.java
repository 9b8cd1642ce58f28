package dev.mor4j.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Collects the wrong answers of a multiple-choice item: candidates in order of plausibility, keeping the
 * non-empty ones that differ from the answer and from each other, topped up from a fallback when the
 * candidates coincide (short or repetitive inputs make e.g. a partial reversal equal to the full one).
 */
final class Distractors {

    /** How many wrong answers every item gets (so four choices). */
    static final int COUNT = 3;

    private static final int FALLBACK_TRIES = 1000;

    private Distractors() {
    }

    /**
     * @param candidates wrong answers in order of plausibility; duplicates and the answer itself are skipped
     * @param fallback   draws further wrong answers when the candidates run out
     * @throws IllegalStateException when the fallback cannot find enough distinct ones
     */
    static List<String> pick(String answer, List<String> candidates, Random rnd, Function<Random, String> fallback) {
        List<String> out = new ArrayList<>(COUNT);
        for (String c : candidates) {
            if (out.size() == COUNT) {
                return out;
            }
            add(out, answer, c);
        }
        for (int i = 0; out.size() < COUNT && i < FALLBACK_TRIES; i++) {
            add(out, answer, fallback.apply(rnd));
        }
        if (out.size() < COUNT) {
            throw new IllegalStateException("found only " + out.size() + " distinct wrong answers for " + answer);
        }
        return out;
    }

    private static void add(List<String> out, String answer, String candidate) {
        if (candidate != null && !candidate.isEmpty() && !candidate.equals(answer) && !out.contains(candidate)) {
            out.add(candidate);
        }
    }
}
