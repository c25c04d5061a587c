package io.stepslm.generate;

import java.util.Map;
import java.util.TreeMap;

/**
 * How to pick each next token from the model's logits. {@link Sampler} applies the settings in this order (the
 * order of llama.cpp's logit bias and penalties followed by HuggingFace's logits warpers):
 * <ol>
 *   <li>logit bias: {@code l[id] += bias[id]};</li>
 *   <li>repetition penalty over the distinct tokens among the last {@code repeatLastN} of prompt and output
 *       (llama.cpp, HuggingFace CTRL rule): {@code l > 0 ? l / penalty : l * penalty};</li>
 *   <li>presence and frequency penalties over the tokens generated so far (OpenAI):
 *       {@code l -= count * frequency + (count > 0 ? presence : 0)};</li>
 *   <li>greedy ({@code temperature == 0} or {@code topK == 1}): the largest logit, first on ties; otherwise</li>
 *   <li>temperature: {@code l / temperature};</li>
 *   <li>top-k: tokens whose logit is at least the k-th largest (ties at the boundary are all kept, as
 *       HuggingFace's {@code TopKLogitsWarper});</li>
 *   <li>top-p: the smallest set of the most likely tokens whose probability reaches p, plus every token tied with
 *       the least likely one kept;</li>
 *   <li>min-p: tokens whose probability is at least {@code minP} times the most likely one's;</li>
 *   <li>a draw from the kept tokens, renormalised, with this config's seed.</li>
 * </ol>
 *
 * @param temperature      0 = greedy (argmax); otherwise logits are divided by it (1.0 = the model's distribution)
 * @param topK             keep only the k most likely tokens (0 = off), as nanoGPT's {@code sample.py}
 * @param topP             nucleus sampling: keep the smallest set whose probability reaches p (1.0 = off)
 * @param minP             keep tokens at least this fraction as likely as the most likely one (0 = off)
 * @param repeatPenalty    repetition penalty (1.0 = off; llama.cpp's {@code --repeat-penalty})
 * @param repeatLastN      how many of the latest tokens the repetition penalty looks at (-1 = the whole context)
 * @param presencePenalty  subtracted once from the logit of every token generated so far (0 = off)
 * @param frequencyPenalty subtracted from a token's logit per time it was generated so far (0 = off)
 * @param logitBias        token id -> value added to its logit (empty = off; -100 all but bans a token)
 * @param seed             seed of the sampling RNG: the same seed, model and prompt give the same tokens
 */
public record SamplingConfig(double temperature, int topK, double topP, double minP, double repeatPenalty,
                             int repeatLastN, double presencePenalty, double frequencyPenalty,
                             Map<Integer, Float> logitBias, long seed) {

    /** llama.cpp's default window of the repetition penalty. */
    public static final int DEFAULT_REPEAT_LAST_N = 64;

    public SamplingConfig {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature " + temperature
                    + " must be a finite number >= 0 (0 = greedy)");
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k " + topK + " must be 0 (off) or positive");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p " + topP + " must be in (0, 1] (1 = off)");
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min-p " + minP + " must be in [0, 1] (0 = off)");
        }
        if (!(repeatPenalty > 0) || Double.isInfinite(repeatPenalty)) {
            throw new IllegalArgumentException("repeat penalty " + repeatPenalty + " must be a finite number > 0 "
                    + "(1 = off, 1.1 is common)");
        }
        if (repeatLastN < -1) {
            throw new IllegalArgumentException("repeat-last-n " + repeatLastN + " must be -1 (the whole context), "
                    + "0 (off) or positive");
        }
        if (!Double.isFinite(presencePenalty) || !Double.isFinite(frequencyPenalty)) {
            throw new IllegalArgumentException("presence penalty " + presencePenalty + " and frequency penalty "
                    + frequencyPenalty + " must be finite numbers (0 = off, OpenAI allows -2 to 2)");
        }
        if (logitBias == null) {
            throw new IllegalArgumentException("logit bias must be a map (empty = off)");
        }
        for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
            if (e.getKey() == null || e.getKey() < 0 || e.getValue() == null || Float.isNaN(e.getValue())) {
                throw new IllegalArgumentException("logit bias " + e.getKey() + " -> " + e.getValue()
                        + " needs a token id >= 0 and a number");
            }
        }
        logitBias = Map.copyOf(new TreeMap<>(logitBias));
    }

    /** nanoGPT's sample.py defaults: temperature 0.8, top-k 200, seed 1337; every other control off. */
    public static SamplingConfig defaults() {
        return new SamplingConfig(0.8, 200, 1.0, 0, 1.0, DEFAULT_REPEAT_LAST_N, 0, 0, Map.of(), 1337);
    }

    /** Always the most likely token. */
    public static SamplingConfig greedy() {
        return defaults().withTemperature(0);
    }

    public boolean isGreedy() {
        return temperature == 0 || topK == 1;
    }

    public SamplingConfig withSeed(long newSeed) {
        return new SamplingConfig(temperature, topK, topP, minP, repeatPenalty, repeatLastN, presencePenalty,
                frequencyPenalty, logitBias, newSeed);
    }

    public SamplingConfig withTemperature(double t) {
        return new SamplingConfig(t, topK, topP, minP, repeatPenalty, repeatLastN, presencePenalty,
                frequencyPenalty, logitBias, seed);
    }

    /** Temperature, top-k, top-p and min-p replaced, the rest kept. */
    public SamplingConfig withFilters(double t, int k, double p, double min) {
        return new SamplingConfig(t, k, p, min, repeatPenalty, repeatLastN, presencePenalty, frequencyPenalty,
                logitBias, seed);
    }

    /** Repetition, presence and frequency penalties replaced, the rest kept. */
    public SamplingConfig withPenalties(double repeat, int lastN, double presence, double frequency) {
        return new SamplingConfig(temperature, topK, topP, minP, repeat, lastN, presence, frequency, logitBias,
                seed);
    }

    public SamplingConfig withLogitBias(Map<Integer, Float> bias) {
        return new SamplingConfig(temperature, topK, topP, minP, repeatPenalty, repeatLastN, presencePenalty,
                frequencyPenalty, bias, seed);
    }
}
