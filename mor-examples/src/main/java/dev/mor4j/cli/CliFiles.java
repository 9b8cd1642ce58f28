package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Guards that keep commands from overwriting the files they read. */
final class CliFiles {

    private CliFiles() {
    }

    /** Refuses an output path that is one of the inputs. */
    static void refuseOverwritingInput(Path out, Path... inputs) {
        for (Path in : inputs) {
            if (in != null && same(out, in)) {
                throw new MorException(out + ": the output would overwrite an input file; choose another --out");
            }
        }
    }

    private static boolean same(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) {
                return Files.isSameFile(a, b);
            }
        } catch (IOException e) {
            return false;
        }
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
}
