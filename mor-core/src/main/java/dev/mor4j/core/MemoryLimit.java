package dev.mor4j.core;

import org.bytedeco.javacpp.Pointer;

/**
 * What this process may hold outside the Java heap: JavaCPP's {@code org.bytedeco.javacpp.maxbytes} (the arrays)
 * and {@code maxphysicalbytes} less the Java heap and {@value #NATIVE_OVERHEAD} bytes for the JVM's and the
 * native libraries' own memory (the whole process), whichever is smaller; where neither is set, the machine's
 * memory less the same.
 *
 * @param bytes  the limit
 * @param source where it comes from, for messages
 */
public record MemoryLimit(long bytes, String source) {

    /** The JVM's own memory besides the heap and the native libraries' (code, threads, BLAS buffers). */
    public static final long NATIVE_OVERHEAD = 300_000_000L;

    /** The limit of the running process. */
    public static MemoryLimit ofProcess() {
        long heap = Runtime.getRuntime().maxMemory() + NATIVE_OVERHEAD;
        long max = Pointer.maxBytes();
        long physical = Pointer.maxPhysicalBytes();
        long best = Long.MAX_VALUE;
        String source = "the machine's memory less the Java heap and the JVM's own";
        if (max > 0) {
            best = max;
            source = "org.bytedeco.javacpp.maxbytes";
        }
        if (physical > 0 && physical - heap < best) {
            best = physical - heap;
            source = "org.bytedeco.javacpp.maxphysicalbytes less the Java heap and the JVM's own";
        }
        if (best == Long.MAX_VALUE) {
            best = Pointer.totalPhysicalBytes() - heap;
        }
        return new MemoryLimit(best, source);
    }
}
