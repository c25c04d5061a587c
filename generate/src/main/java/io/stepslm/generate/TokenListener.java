package io.stepslm.generate;

/** Receives each token as soon as it is chosen (for streaming output). */
@FunctionalInterface
public interface TokenListener {

    /** Ignores every token. */
    TokenListener NONE = (token, text, logprobs) -> { };

    /**
     * @param token    the chosen id
     * @param text     the text that became final with it (may be empty: a partial UTF-8 character, or text that
     *                 could still turn out to begin a stop string, is held back until it is decided)
     * @param logprobs its log-probabilities as the generation config asked ({@link TokenLogprobs#logprob()} NaN
     *                 when off)
     */
    void onToken(int token, String text, TokenLogprobs logprobs);
}
