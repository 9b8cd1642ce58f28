package dev.mor4j.tasks;

import java.util.List;
import java.util.Random;

/**
 * Multi-digit addition: {@code What is 4821 + 397?} → {@code 5218}. Both terms have 2 to 4 digits. Wrong answers:
 * the sum without carries (each digit added modulo 10), the sum off by one, off by ten, and with one digit off
 * by one.
 */
final class AdditionTask implements TaskGenerator {

    @Override
    public TaskExample draw(Random rnd) {
        int a = TaskInputs.number(rnd, 2, 4);
        int b = TaskInputs.number(rnd, 2, 4);
        int sum = a + b;
        int sign = rnd.nextBoolean() ? 1 : -1;
        List<String> candidates = List.of(
                String.valueOf(withoutCarries(a, b)),
                String.valueOf(sum + sign),
                String.valueOf(sum - 10 * sign),
                oneDigitOff(sum, rnd),
                String.valueOf(sum - sign));
        String answer = String.valueOf(sum);
        return new TaskExample("What is " + a + " + " + b + "?", answer,
                Distractors.pick(answer, candidates, rnd, r -> String.valueOf(sum + 1 + r.nextInt(30))));
    }

    /** The sum written digit by digit, each digit {@code (a_i + b_i) mod 10}: every carry forgotten. */
    static int withoutCarries(int a, int b) {
        int out = 0;
        for (int place = 1; a > 0 || b > 0; place *= 10) {
            out += ((a % 10 + b % 10) % 10) * place;
            a /= 10;
            b /= 10;
        }
        return out;
    }

    /** {@code n} with one digit (not a leading 1 turned into 0) moved up or down by one. */
    private static String oneDigitOff(int n, Random rnd) {
        char[] digits = String.valueOf(n).toCharArray();
        int i = rnd.nextInt(digits.length);
        int d = digits[i] - '0';
        int moved = d == 9 ? 8 : d == 0 ? 1 : d + (rnd.nextBoolean() ? 1 : -1);
        if (i == 0 && moved == 0 && digits.length > 1) {
            moved = d + 1;
        }
        digits[i] = (char) ('0' + moved);
        return new String(digits);
    }
}
