package dev.mor4j.core;

import org.bytedeco.javacpp.Pointer;

/**
 * What this process may hold in all, arrays and JVM together: JavaCPP's {@code org.bytedeco.javacpp.maxphysicalbytes}
 * (the resident memory it lets the process reach), or {@code org.bytedeco.javacpp.maxbytes} (ND4J's arrays) plus
 * the JVM's own memory ({@link #jvmBytes()}), whichever is smaller; where neither is set, the machine's memory.
 *
 * @param bytes  the limit on the whole process's resident memory
 * @param source where it comes from, for messages
 */
public record MemoryLimit(long bytes, String source) {

    /** The JVM's memory besides its heap, and the native libraries' own (code, threads, BLAS buffers). */
    public static final long NATIVE_OVERHEAD = 400_000_000L;

    /**
     * What the JVM itself takes: the heap at its maximum (a heap that has grown stays resident) plus
     * {@link #NATIVE_OVERHEAD}.
     */
    public static long jvmBytes() {
        return Runtime.getRuntime().maxMemory() + NATIVE_OVERHEAD;
    }

    /** The limit of the running process. */
    public static MemoryLimit ofProcess() {
        long max = Pointer.maxBytes();
        long physical = Pointer.maxPhysicalBytes();
        long best = Pointer.totalPhysicalBytes();
        String source = "the machine's memory";
        if (max > 0 && max + jvmBytes() < best) {
            best = max + jvmBytes();
            source = "org.bytedeco.javacpp.maxbytes plus the JVM's heap and own memory";
        }
        if (physical > 0 && physical < best) {
            best = physical;
            source = "org.bytedeco.javacpp.maxphysicalbytes";
        }
        return new MemoryLimit(best, source);
    }
}
