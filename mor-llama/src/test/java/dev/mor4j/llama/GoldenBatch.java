package dev.mor4j.llama;

import dev.mor4j.core.TestData;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.llama.model.Batch;

/** The batches the golden files were computed on. */
public final class GoldenBatch {

    private GoldenBatch() {
    }

    /** The golden batch (input_ids, attention_mask, labels) of a golden file. */
    public static Batch of(SafetensorsFile g) {
        return new Batch(g.getLong("input_ids").toLongMatrix(), g.getLong("attention_mask").toLongMatrix(),
                g.getLong("labels").toLongMatrix());
    }

    /** The batch of {@code goldens-base-mor.safetensors}, the one the base and MoR goldens were computed on. */
    public static Batch golden() {
        try (SafetensorsFile g = SafetensorsFile.open(TestData.goldens("goldens-base-mor.safetensors"))) {
            return of(g);
        }
    }
}
