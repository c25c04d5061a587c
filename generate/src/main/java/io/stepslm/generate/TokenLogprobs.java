package io.stepslm.generate;

/**
 * Log-probabilities of one generated token under the model's distribution: the log-softmax of the raw logits,
 * before penalties, bias, temperature and filters (as OpenAI and vLLM report them).
 *
 * @param token        the chosen id
 * @param logprob      its log-probability (NaN when not asked for)
 * @param topTokens    the most likely ids, most likely first (empty when not asked for)
 * @param topLogprobs  their log-probabilities, in the same order
 */
public record TokenLogprobs(int token, double logprob, int[] topTokens, double[] topLogprobs) {

    /** For a token whose log-probabilities were not asked for. */
    static TokenLogprobs none(int token) {
        return new TokenLogprobs(token, Double.NaN, new int[0], new double[0]);
    }
}
