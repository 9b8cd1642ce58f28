package dev.mor4j.core.adapter;

/** The adapter families this library trains and loads. */
public enum AdapterMethod {
    /** Low-rank adaptation: {@code y = W x + s·B A x}. PEFT {@code peft_type: LORA}. */
    LORA,
    /** Weight-decomposed LoRA. PEFT {@code peft_type: LORA} with {@code use_dora: true}. */
    DORA,
    /** N full LoRA experts mixed by a router. {@code peft_type: MOELORA}. */
    MOELORA,
    /** Mixture of Ranks: one shared LoRA pair, N expert scaling vectors and a router. {@code peft_type: MOR}. */
    MOR,
    /**
     * MoRE, Mixture of Low-Rank Experts: the rank experts are nested slices of one LoRA pair and a per-task
     * selector picks one. {@code peft_type: MORE}.
     */
    MORE
}
