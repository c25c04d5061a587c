package io.stepslm.generate;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one generation produces and when it ends.
 *
 * @param maxNewTokens how many tokens to generate at most (0 = none)
 * @param sampling     how each token is picked
 * @param stopTokens   ids that end the generation; the stop token counts as generated but adds no text
 * @param stopStrings  texts that end the generation as soon as the output contains one (it may span several
 *                     tokens); the returned text ends right before it
 * @param logprobs     -1 = no log-probabilities; 0 = the chosen token's; n > 0 = also the n most likely tokens'
 */
public record GenerationConfig(int maxNewTokens, SamplingConfig sampling, Set<Integer> stopTokens,
                               List<String> stopStrings, int logprobs) {

    /** Most alternatives per token that {@link #logprobs} may ask for (OpenAI allows 20). */
    public static final int MAX_LOGPROBS = 20;

    public GenerationConfig {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens " + maxNewTokens + " must be 0 or more");
        }
        if (sampling == null || stopTokens == null || stopStrings == null) {
            throw new IllegalArgumentException("sampling, stop tokens and stop strings must be given (empty = none)");
        }
        for (Integer id : stopTokens) {
            if (id == null || id < 0) {
                throw new IllegalArgumentException("stop token " + id + " must be a token id >= 0");
            }
        }
        for (String s : stopStrings) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty: an empty stop string would end "
                        + "every generation before its first token");
            }
        }
        if (logprobs < -1 || logprobs > MAX_LOGPROBS) {
            throw new IllegalArgumentException("logprobs " + logprobs + " must be -1 (off), 0 (chosen token) or up "
                    + "to " + MAX_LOGPROBS + " alternatives");
        }
        stopTokens = Set.copyOf(new TreeSet<>(stopTokens));
        stopStrings = List.copyOf(stopStrings);
    }

    /** {@code maxNewTokens} tokens with {@code sampling}, no stop condition, no log-probabilities. */
    public static GenerationConfig of(int maxNewTokens, SamplingConfig sampling) {
        return new GenerationConfig(maxNewTokens, sampling, Set.of(), List.of(), -1);
    }

    public GenerationConfig withSampling(SamplingConfig s) {
        return new GenerationConfig(maxNewTokens, s, stopTokens, stopStrings, logprobs);
    }

    public GenerationConfig withStops(Set<Integer> tokens, List<String> strings) {
        return new GenerationConfig(maxNewTokens, sampling, tokens, strings, logprobs);
    }

    public GenerationConfig withLogprobs(int n) {
        return new GenerationConfig(maxNewTokens, sampling, stopTokens, stopStrings, n);
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(n, sampling, stopTokens, stopStrings, logprobs);
    }
}
