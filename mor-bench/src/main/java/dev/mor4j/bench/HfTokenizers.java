package dev.mor4j.bench;

import dev.mor4j.core.MorException;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The HF {@code tokenizers} library (Rust) in this process, as the peer of the tokenizer benchmark: it encodes
 * with the same {@code tokenizer.json} through the JNI binding of DJL ({@code ai.djl.huggingface:tokenizers},
 * whose jar carries the native library for linux-x86_64). Only the binding's raw calls are used (encode, read
 * the ids, free the encoding), so that the Java side adds as little as possible to HF's own time.
 *
 * <p>The binding is a runtime-only dependency of {@code mor-bench} and is reached by reflection; the library
 * modules never see it. {@link #load} fails with a {@link MorException} saying why when the jar or its native
 * library is missing.
 */
final class HfTokenizers implements AutoCloseable {

    private static final String JNI = "ai.djl.huggingface.tokenizers.jni.";

    private final Object lib;
    private final long handle;
    private final MethodHandle encode;
    private final MethodHandle tokenIds;
    private final MethodHandle deleteEncoding;
    private final MethodHandle deleteTokenizer;

    private HfTokenizers(Object lib, long handle, MethodHandles.Lookup lookup, Class<?> type)
            throws ReflectiveOperationException {
        this.lib = lib;
        this.handle = handle;
        encode = lookup.findVirtual(type, "encode", MethodType.methodType(long.class, long.class, String.class,
                boolean.class));
        tokenIds = lookup.findVirtual(type, "getTokenIds", MethodType.methodType(long[].class, long.class));
        deleteEncoding = lookup.findVirtual(type, "deleteEncoding", MethodType.methodType(void.class, long.class));
        deleteTokenizer = lookup.findVirtual(type, "deleteTokenizer", MethodType.methodType(void.class,
                long.class));
    }

    /**
     * Loads a {@code tokenizer.json} into HF tokenizers.
     *
     * @throws MorException when the binding is not on the class path, its native library does not load, or the
     *                      file is refused
     */
    static HfTokenizers load(Path tokenizerJson) {
        try {
            Class.forName(JNI + "LibUtils").getMethod("checkStatus").invoke(null);
            Class<?> type = Class.forName(JNI + "TokenizersLibrary");
            Object lib = type.getField("LIB").get(null);
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            MethodHandle create = lookup.findVirtual(type, "createTokenizerFromString",
                    MethodType.methodType(long.class, String.class));
            long handle = (long) create.invoke(lib, Files.readString(tokenizerJson));
            return new HfTokenizers(lib, handle, lookup, type);
        } catch (ClassNotFoundException e) {
            throw new MorException("HF tokenizers: ai.djl.huggingface:tokenizers is not on the class path ("
                    + e.getMessage() + ")");
        } catch (IOException e) {
            throw new MorException(tokenizerJson + ": cannot read (" + e.getMessage() + ")");
        } catch (Throwable e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new MorException("HF tokenizers: cannot load " + tokenizerJson + " (" + cause + ")");
        }
    }

    /** The version of HF tokenizers inside the binding, e.g. {@code 0.21.0} (binding {@code 0.21.0-0.38.0}). */
    static String version() {
        return MachineInfo.resourceProperty("/native/lib/tokenizers.properties", "version");
    }

    /** The ids HF tokenizers gives for {@code text}. */
    int[] encode(String text, boolean addSpecialTokens) {
        try {
            long encoding = (long) encode.invoke(lib, handle, text, addSpecialTokens);
            long[] ids = (long[]) tokenIds.invoke(lib, encoding);
            deleteEncoding.invoke(lib, encoding);
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = (int) ids[i];
            }
            return out;
        } catch (Throwable e) {
            throw new MorException("HF tokenizers: encoding failed (" + e + ")");
        }
    }

    @Override
    public void close() {
        try {
            deleteTokenizer.invoke(lib, handle);
        } catch (Throwable e) {
            throw new MorException("HF tokenizers: cannot free the tokenizer (" + e + ")");
        }
    }
}
