/**
 * A pure-Java reading of HF {@code tokenizer.json} files for LLaMA-family BPE tokenizers, producing exactly the
 * ids, tokens and decoded text of the HF {@code tokenizers} library. Entry point: {@link
 * dev.mor4j.llama.tokenizer.Tokenizer#load(java.nio.file.Path)}.
 */
package dev.mor4j.llama.tokenizer;
