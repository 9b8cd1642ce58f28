package dev.mor4j.cli;

import dev.mor4j.core.MorException;
import java.io.PrintStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code mor} command line. Errors in the user's input print one line naming what was wrong and
 * exit with code 2; a stack trace is printed only with {@code --verbose}.
 */
@Command(name = "mor", mixinStandardHelpOptions = true, version = "mor4j 0.1.0",
        description = "Fine-tune LLaMA models with Mixture-of-Ranks (MoR), LoRA, DoRA and MoELoRA adapters.",
        subcommands = {FinetuneCommand.class, ForwardCommand.class, GenerateCommand.class, EvalCommand.class,
            MergeCommand.class, ExportLoraCommand.class, TokenizeCommand.class, EncodeCommand.class,
            MakeTasksCommand.class, MakeBaseCommand.class, PaperCommand.class, CommandLine.HelpCommand.class})
public final class MorCli {

    /** Exit code for errors in the user's input (files, keys, shapes, flags). */
    public static final int EXIT_INPUT = 2;
    /** Exit code for unexpected failures. */
    public static final int EXIT_INTERNAL = 1;

    /** The logger of SameDiff's "No fields found for property name …" warnings, silenced unless --verbose. */
    private static final String ND4J_FIELD_WARNINGS =
            "org.slf4j.simpleLogger.log.org.nd4j.autodiff.functions.DifferentialFunction";

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces of errors, and ND4J's internal warnings.")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (for tests and embedding). */
    public static int run(String... args) {
        if (java.util.Arrays.asList(args).contains("--verbose")) {
            // before the first logger exists: a system property overrides simplelogger.properties
            System.setProperty(ND4J_FIELD_WARNINGS, "warn");
        }
        QuietStdout.install();
        return execute(args);
    }

    /** Runs the command line on the current standard streams and returns the exit code. */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new MorCli());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            MorCli root = line.getCommandSpec().root().userObject() instanceof MorCli m ? m : null;
            boolean verbose = root != null && root.verbose;
            PrintStream err = System.err;
            if (ex instanceof MorException) {
                err.println("error: " + ex.getMessage());
                if (verbose) {
                    ex.printStackTrace(err);
                }
                return EXIT_INPUT;
            }
            err.println("error: " + ex + (verbose ? "" : " (run with --verbose for details)"));
            if (verbose) {
                ex.printStackTrace(err);
            }
            return EXIT_INTERNAL;
        });
        return cl.execute(args);
    }
}
