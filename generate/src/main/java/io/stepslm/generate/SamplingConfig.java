package io.stepslm.generate;

/**
 * How to pick each next token.
 *
 * @param maxNewTokens how many tokens to generate at most (stops earlier at a stop token)
 * @param temperature  0 = greedy (argmax); otherwise logits are divided by it (1.0 = the model's distribution)
 * @param topK         keep only the k most likely tokens (0 = off), as nanoGPT's {@code sample.py}
 * @param topP         nucleus sampling: keep the smallest set whose probability reaches p (1.0 = off), as
 *                     HuggingFace transformers' {@code top_p}
 * @param seed         seed of the sampling RNG: the same seed, model and prompt give the same tokens
 */
public record SamplingConfig(int maxNewTokens, double temperature, int topK, double topP, long seed) {

    public SamplingConfig {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens " + maxNewTokens + " must be 0 or more");
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature " + temperature + " must be a finite number >= 0 (0 = greedy)");
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k " + topK + " must be 0 (off) or positive");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p " + topP + " must be in (0, 1] (1 = off)");
        }
    }

    /** nanoGPT's sample.py defaults: 500 tokens, temperature 0.8, top-k 200, seed 1337. */
    public static SamplingConfig defaults() {
        return new SamplingConfig(500, 0.8, 200, 1.0, 1337);
    }

    /** Always the most likely token. */
    public static SamplingConfig greedy(int maxNewTokens) {
        return new SamplingConfig(maxNewTokens, 0, 0, 1.0, 0);
    }

    public boolean isGreedy() {
        return temperature == 0 || topK == 1;
    }

    public SamplingConfig withSeed(long newSeed) {
        return new SamplingConfig(maxNewTokens, temperature, topK, topP, newSeed);
    }
}
