/**
 * Supervised fine-tuning data: streaming reading of Tulu-v2 SFT JSONL files ({@link
 * dev.mor4j.llama.data.TuluReader}) and their encoding into input ids and labels the way allenai/open-instruct
 * does ({@link dev.mor4j.llama.data.TuluEncoder}).
 */
package dev.mor4j.llama.data;
