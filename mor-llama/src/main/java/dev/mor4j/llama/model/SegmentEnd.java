package dev.mor4j.llama.model;

/**
 * Where a {@linkplain LlamaGraph#segment segment} that ends at the model's last decoder layer stops. Segments
 * before the last layer always end at their last layer's output.
 */
public enum SegmentEnd {
    /** As the whole model: the final norm, the LM head's {@code logits} and, for training, the loss. */
    HEAD,
    /**
     * After the final norm, as a segment before the last layer ends ({@link LlamaGraph#HIDDEN_OUT}, and for training
     * {@link LlamaGraph#GRAD_OUT} and {@link LlamaGraph#AUX_LOSS}): the head and the loss are the caller's.
     */
    FINAL_NORM
}
