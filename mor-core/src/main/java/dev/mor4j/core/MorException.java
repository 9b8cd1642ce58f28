package dev.mor4j.core;

/**
 * An error caused by the user's input (a file, a key, a shape, a line, a flag), with a message that
 * names what was wrong and what was expected. The command line prints only the message of such an error
 * (no stack trace unless {@code --verbose}) and exits with a non-zero code.
 */
public class MorException extends RuntimeException {

    public MorException(String message) {
        super(message);
    }

    public MorException(String message, Throwable cause) {
        super(message, cause);
    }
}
