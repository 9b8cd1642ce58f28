package dev.mor4j.paper;

import java.nio.file.Path;
import java.util.Locale;

/**
 * One training run of the experiment: a method at a learning rate and a seed, either a search run (seed 0, trained
 * on the train split less the validation split, scored by validation loss) or a final run (trained on the whole
 * train split, evaluated on the test files). Its result lives in {@code runs/<phase>/<method>/lr-<lr>-seed-<seed>/}
 * of the output directory.
 */
public record RunSpec(PaperMethod method, Phase phase, double lr, long seed) {

    /** Which part of the protocol a run belongs to. */
    public enum Phase {
        /** Learning-rate search: validation loss. */
        SEARCH,
        /** At the chosen learning rate: test accuracy. */
        FINAL;

        public String dirName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** E.g. {@code mor-e8-r8 lr 0.003 seed 1 (final)}. */
    public String label() {
        return method.cliName() + " lr " + formatLr(lr) + " seed " + seed + " (" + phase.dirName() + ")";
    }

    /** The run's directory in the output directory. */
    public Path dir(Path out) {
        return out.resolve("runs").resolve(phase.dirName()).resolve(method.cliName())
                .resolve("lr-" + formatLr(lr) + "-seed-" + seed);
    }

    /** A learning rate as written in names and tables: the shortest decimal that reads back as the same double. */
    public static String formatLr(double lr) {
        return Double.toString(lr).replace("E", "e");
    }
}
