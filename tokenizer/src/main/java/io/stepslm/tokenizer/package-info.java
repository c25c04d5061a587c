/**
 * Turns text into token ids and back: byte-level BPE (GPT-2 style, HuggingFace {@code tokenizer.json} compatible)
 * and a character-level tokenizer. Training, loading, saving and fast parallel encoding live here; no tensors.
 */
package io.stepslm.tokenizer;
