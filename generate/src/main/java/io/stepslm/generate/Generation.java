package io.stepslm.generate;

import java.util.List;

/**
 * The outcome of one generation.
 *
 * @param tokens       every generated id, a final stop token included
 * @param text         the decoded output: without the stop token's text, ending right before a stop string, never
 *                     with half a character
 * @param stopReason   why it ended
 * @param promptTokens how many prompt tokens were fed (the last context-length ones of a longer prompt)
 * @param logprobs     per generated token, as the config asked (empty when logprobs = -1)
 * @param promptNanos  time of the prompt's prefill, first token's sampling included
 * @param decodeNanos  time of the decoding steps after it (shared steps of a batch count for every row in them)
 */
public record Generation(int[] tokens, String text, StopReason stopReason, int promptTokens,
                         List<TokenLogprobs> logprobs, long promptNanos, long decodeNanos) {

    /** Prompt processing speed, as llama.cpp reports it ("prompt eval"). */
    public double promptTokensPerSecond() {
        return promptNanos == 0 ? 0 : promptTokens / (promptNanos / 1e9);
    }

    /** Generation speed over the tokens after the first (the first comes out of the prompt's prefill). */
    public double generationTokensPerSecond() {
        return decodeNanos == 0 ? 0 : (tokens.length - 1) / (decodeNanos / 1e9);
    }
}
