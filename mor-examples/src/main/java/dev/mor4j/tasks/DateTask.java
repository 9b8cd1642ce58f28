package dev.mor4j.tasks;

import java.time.LocalDate;
import java.util.List;
import java.util.Random;

/**
 * Date format conversion: {@code Convert 07/03/2021 to YYYY-MM-DD.} → {@code 2021-03-07}, dates from 1950 to
 * 2049. Wrong answers: day and month swapped, the parts kept in their order ({@code 07-03-2021}), the day off by
 * one, the year off by one.
 */
final class DateTask implements TaskGenerator {

    @Override
    public TaskExample draw(Random rnd) {
        LocalDate date = TaskInputs.date(rnd);
        String dmy = TaskInputs.dayMonthYear(date);
        String answer = TaskInputs.iso(date);
        String swapped = String.format(java.util.Locale.ROOT, "%04d-%02d-%02d", date.getYear(), date.getDayOfMonth(),
                date.getMonthValue());
        List<String> candidates = List.of(
                swapped,
                dmy.replace('/', '-'),
                TaskInputs.iso(date.plusDays(rnd.nextBoolean() ? 1 : -1)),
                TaskInputs.iso(date.plusYears(rnd.nextBoolean() ? 1 : -1)));
        return new TaskExample("Convert " + dmy + " to YYYY-MM-DD.", answer,
                Distractors.pick(answer, candidates, rnd, r -> TaskInputs.iso(date.plusDays(2 + r.nextInt(20)))));
    }
}
