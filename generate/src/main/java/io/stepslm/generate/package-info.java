/**
 * Samples continuations from a {@code LanguageModel} with its KV cache: token ids in, token ids out (text only
 * through a decoder the caller passes in). Temperature, top-k and top-p sampling with a seed, greedy decoding, stop
 * tokens and a sliding window past the context length.
 */
package io.stepslm.generate;
