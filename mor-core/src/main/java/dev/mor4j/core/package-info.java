/** Adapters, safetensors IO and training pieces that know nothing of LLaMA. */
package dev.mor4j.core;
