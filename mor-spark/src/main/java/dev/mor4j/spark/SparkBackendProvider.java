package dev.mor4j.spark;

import dev.mor4j.llama.train.StepBackend;

/** Registers {@link SparkBackend} under the name {@code spark}, for {@code mor finetune --spark}. */
public final class SparkBackendProvider implements StepBackend.Provider {

    @Override
    public String name() {
        return "spark";
    }

    @Override
    public StepBackend create(String target, int parallelism) {
        return new SparkBackend(target, parallelism);
    }
}
