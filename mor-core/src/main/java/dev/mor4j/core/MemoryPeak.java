package dev.mor4j.core;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import org.bytedeco.javacpp.Pointer;

/**
 * Peak memory while a piece of work runs: the process's resident memory ({@code Pointer.physicalBytes()}, which
 * counts heap and off-heap alike), the bytes JavaCPP itself has allocated ({@code Pointer.totalBytes()}), and
 * the Java heap's peak use (the JVM's own pool peaks). A daemon thread samples the first two every 10 ms.
 */
public final class MemoryPeak implements AutoCloseable {

    private final Thread sampler;
    private volatile boolean running = true;
    private volatile long physical;
    private volatile long javacpp;

    /** Resets the heap pools' peaks and starts sampling. */
    public MemoryPeak() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                p.resetPeakUsage();
            }
        }
        sample();
        sampler = new Thread(() -> {
            while (running) {
                sample();
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "memory-peak");
        sampler.setDaemon(true);
        sampler.start();
    }

    private void sample() {
        physical = Math.max(physical, Pointer.physicalBytes());
        javacpp = Math.max(javacpp, Pointer.totalBytes());
    }

    /** Peak resident bytes of the process. */
    public long physicalBytes() {
        sample();
        return physical;
    }

    /** Peak bytes allocated through JavaCPP. */
    public long javacppBytes() {
        sample();
        return javacpp;
    }

    /** Sum over the heap pools of their peak use since this object was made. */
    public long heapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }
}
