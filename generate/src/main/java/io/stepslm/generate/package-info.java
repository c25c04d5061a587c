/**
 * Samples continuations from a {@code LanguageModel} through its {@code Decoder}: token ids in, token ids out (text
 * only through a decoder the caller passes in). Sampling controls in a documented order, stop tokens and stop
 * strings, log-probabilities, batches and continuous-batching slots, and a sliding window past the context length.
 */
package io.stepslm.generate;
