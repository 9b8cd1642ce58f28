package dev.mor4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mor4j.core.adapter.AdapterConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The adapter sizes of docs/distributed.md's table and the scaling model's arithmetic. */
class TrafficModelTest {

    @Test
    void adapterSizesOnLlama2SevenBAreTheClosedFormCounts() {
        TrafficModel.Shape shape = TrafficModel.Shape.llama2_7b();
        long r = 8;
        long n = 8;
        long mor = 0;
        long lora = 0;
        for (long[] d : new long[][] {{4096, 11008}, {4096, 11008}, {11008, 4096}}) { // gate, up, down: {d_in, d_out}
            mor += r * d[0] + d[1] * r + n * r + n * d[1] + n * d[0]; // A, B, ω_A, ω_B, the router
            lora += r * (d[0] + d[1]);
        }
        assertEquals(32 * mor, TrafficModel.parameters(AdapterConfig.morDefaults(), shape));
        assertEquals(23_205_888L, 32 * mor);
        assertEquals(32 * lora, TrafficModel.parameters(
                TrafficModel.lora(8, List.of("gate_proj", "up_proj", "down_proj")), shape));
    }

    @Test
    void stepTimeIsTheComputeRoundsPlusTheBytesOverTheLink() {
        // 4 micro-batches of 10 s on 2 machines: 2 rounds; 2·2·4·10⁶ bytes at 1 GB/s
        assertEquals(16_000_000L, TrafficModel.bytesPerStep(1_000_000, 2));
        assertEquals(20.016, TrafficModel.stepSeconds(10, 4, 1_000_000, 2, 1e9), 1e-12);
        assertEquals(20.024, TrafficModel.stepSeconds(10, 4, 1_000_000, 3, 1e9), 1e-12, "⌈4 / 3⌉ = 2 rounds");
    }
}
