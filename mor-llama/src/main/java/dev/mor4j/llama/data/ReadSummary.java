package dev.mor4j.llama.data;

/**
 * What a {@link TuluReader} has read so far.
 *
 * @param lines         lines read, bad ones included
 * @param conversations conversations returned
 * @param badLines      lines skipped as bad
 */
public record ReadSummary(long lines, long conversations, long badLines) {

    @Override
    public String toString() {
        return conversations + " conversations from " + lines + " lines, " + badLines + " bad lines skipped";
    }
}
