package dev.mor4j.core.safetensors;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Releases a file mapping as soon as its bytes have been copied, instead of when the garbage collector gets to the
 * buffer. Until then every page of the mapping that was read counts in the process's resident memory: reading a
 * 13.5 GB checkpoint window by window otherwise shows up as gigabytes of resident file pages on top of the weights
 * themselves. Uses {@code sun.misc.Unsafe.invokeCleaner} (module jdk.unsupported); where that is not available the
 * mapping is left to the garbage collector, as before.
 */
final class Unmapper {

    private static final Object UNSAFE;
    private static final Method INVOKE_CLEANER;

    static {
        Object unsafe = null;
        Method cleaner = null;
        try {
            Class<?> c = Class.forName("sun.misc.Unsafe");
            Field f = c.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = f.get(null);
            cleaner = c.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            unsafe = null;
            cleaner = null;
        }
        UNSAFE = unsafe;
        INVOKE_CLEANER = cleaner;
    }

    private Unmapper() {
    }

    /** Unmaps {@code mapped} (a buffer from {@code FileChannel.map}); it must not be read afterwards. */
    static void unmap(ByteBuffer mapped) {
        if (INVOKE_CLEANER == null || !mapped.isDirect()) {
            return;
        }
        try {
            INVOKE_CLEANER.invoke(UNSAFE, mapped);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // left to the garbage collector
        }
    }
}
