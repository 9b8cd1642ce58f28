package dev.mor4j.tasks;

import java.util.Random;

/** Draws examples of one benchmark task. Implementations are stateless: all randomness comes from {@code rnd}. */
interface TaskGenerator {

    /** One example: prompt, answer and {@link Distractors#COUNT} distinct wrong answers. */
    TaskExample draw(Random rnd);
}
