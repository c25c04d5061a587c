package io.stepslm.serve;

import com.google.gson.JsonObject;
import io.stepslm.generate.GenerationConfig;
import io.stepslm.generate.SamplingConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.Map;

/**
 * The sampling settings of one request, named and bounded as OpenAI's API (and llama.cpp's server where OpenAI has
 * none). Defaults are OpenAI's (temperature 1, top_p 1) and "off" for the llama.cpp extensions, so a client that
 * sends only OpenAI fields gets OpenAI's behaviour.
 *
 * @param maxTokens        new tokens at most; the server caps it at the context left after the prompt
 * @param temperature      0 = greedy, in [0, 2] as OpenAI
 * @param topP             nucleus mass in (0, 1]; 1 = off
 * @param topK             keep the k most likely tokens; 0 = off (llama.cpp)
 * @param minP             drop tokens below min_p times the top probability, in [0, 1); 0 = off (llama.cpp)
 * @param repeatPenalty    divide the logits of recent tokens by it, in (0, 10]; 1 = off (llama.cpp)
 * @param repeatLastN      how many of the latest tokens the repeat penalty looks at; -1 = the whole context
 * @param presencePenalty  subtract it from the logit of every token already generated, in [-2, 2] (OpenAI)
 * @param frequencyPenalty subtract it times the token's count so far, in [-2, 2] (OpenAI)
 * @param logitBias        token id -> bias added to its logit, each in [-100, 100] (OpenAI)
 * @param seed             seed of the sampling RNG: the same seed, prompt and settings give the same text
 * @param stop             up to 4 strings that end the text (not included in it), as OpenAI
 * @param ignoreEos        keep generating past the end-of-text token (llama.cpp's {@code ignore_eos})
 */
public record SamplingParams(int maxTokens, double temperature, double topP, int topK, double minP,
        double repeatPenalty, int repeatLastN, double presencePenalty, double frequencyPenalty,
        Map<Integer, Double> logitBias, long seed, List<String> stop, boolean ignoreEos) {

    /** OpenAI allows at most 4 stop sequences. */
    public static final int MAX_STOP = 4;

    public SamplingParams {
        logitBias = Map.copyOf(logitBias);
        stop = List.copyOf(stop);
        if (maxTokens < 0) {
            throw new InvalidField("max_tokens", "max_tokens " + maxTokens + " must be 0 or more");
        }
        range("temperature", temperature, 0, 2);
        if (!(topP > 0 && topP <= 1)) {
            throw new InvalidField("top_p", "top_p " + topP + " must be in (0, 1] (1 = off)");
        }
        if (topK < 0) {
            throw new InvalidField("top_k", "top_k " + topK + " must be 0 (off) or positive");
        }
        if (!(minP >= 0 && minP < 1)) {
            throw new InvalidField("min_p", "min_p " + minP + " must be in [0, 1) (0 = off)");
        }
        if (!(repeatPenalty > 0 && repeatPenalty <= 10)) {
            throw new InvalidField("repeat_penalty",
                    "repeat_penalty " + repeatPenalty + " must be in (0, 10] (1 = off)");
        }
        if (repeatLastN < -1) {
            throw new InvalidField("repeat_last_n", "repeat_last_n " + repeatLastN
                    + " must be -1 (the whole context), 0 (off) or positive");
        }
        range("presence_penalty", presencePenalty, -2, 2);
        range("frequency_penalty", frequencyPenalty, -2, 2);
        for (Map.Entry<Integer, Double> e : logitBias.entrySet()) {
            if (e.getKey() < 0 || !(e.getValue() >= -100 && e.getValue() <= 100)) {
                throw new InvalidField("logit_bias", "logit_bias " + e.getKey() + ": " + e.getValue()
                        + " must map a token id >= 0 to a bias in [-100, 100]");
            }
        }
        if (stop.size() > MAX_STOP) {
            throw new InvalidField("stop",
                    "stop has " + stop.size() + " strings; at most " + MAX_STOP + " are allowed");
        }
        if (stop.stream().anyMatch(String::isEmpty)) {
            throw new InvalidField("stop", "stop strings must not be empty");
        }
    }

    private static void range(String field, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            throw new InvalidField(field, field + " " + value + " must be in [" + min + ", " + max + "]");
        }
    }

    /**
     * The settings of a request body over {@code base}: OpenAI's field names, with llama.cpp's for its extensions
     * ({@code top_k}, {@code min_p}, {@code repeat_penalty}, {@code ignore_eos}); chat clients may send
     * {@code max_completion_tokens} instead of {@code max_tokens}.
     */
    public static SamplingParams fromJson(JsonObject body, SamplingParams base) {
        JsonFields f = new JsonFields(body);
        int maxTokens = f.integer("max_tokens", f.integer("max_completion_tokens", base.maxTokens()));
        return new SamplingParams(maxTokens, f.number("temperature", base.temperature()),
                f.number("top_p", base.topP()), f.integer("top_k", base.topK()), f.number("min_p", base.minP()),
                f.number("repeat_penalty", base.repeatPenalty()), f.integer("repeat_last_n", base.repeatLastN()),
                f.number("presence_penalty", base.presencePenalty()),
                f.number("frequency_penalty", base.frequencyPenalty()),
                f.has("logit_bias") ? f.idToNumber("logit_bias") : base.logitBias(),
                f.longInteger("seed", base.seed()), f.has("stop") ? f.strings("stop") : base.stop(),
                f.bool("ignore_eos", base.ignoreEos()));
    }

    /** OpenAI's defaults with {@code maxTokens} tokens and the given seed. */
    public static SamplingParams defaults(int maxTokens, long seed) {
        return new SamplingParams(maxTokens, 1.0, 1.0, 0, 0, 1.0, SamplingConfig.DEFAULT_REPEAT_LAST_N, 0, 0, Map.of(),
                seed, List.of(), false);
    }

    public SamplingParams withMaxTokens(int n) {
        return new SamplingParams(n, temperature, topP, topK, minP, repeatPenalty, repeatLastN, presencePenalty,
                frequencyPenalty, logitBias, seed, stop, ignoreEos);
    }

    public SamplingParams withTemperature(double t) {
        return new SamplingParams(maxTokens, t, topP, topK, minP, repeatPenalty, repeatLastN, presencePenalty,
                frequencyPenalty, logitBias, seed, stop, ignoreEos);
    }

    /**
     * What the generator runs: these settings with {@code stopTokens} (the end-of-text token unless ignore_eos),
     * this request's stop strings plus {@code extraStops} (a chat template's turn markers) and log-probabilities of
     * the top {@code logprobs} tokens (-1 = none).
     */
    public GenerationConfig toConfig(Set<Integer> stopTokens, List<String> extraStops, int logprobs) {
        Map<Integer, Float> bias = new TreeMap<>();
        logitBias.forEach((id, b) -> bias.put(id, b.floatValue()));
        List<String> stops = new ArrayList<>(stop);
        stops.addAll(extraStops);
        return new GenerationConfig(maxTokens, new SamplingConfig(temperature, topK, topP, minP, repeatPenalty,
                repeatLastN, presencePenalty, frequencyPenalty, bias, seed), ignoreEos ? Set.of() : stopTokens,
                stops, logprobs);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(maxTokens, temperature, topP, topK, minP, repeatPenalty, repeatLastN, presencePenalty,
                frequencyPenalty, logitBias, s, stop, ignoreEos);
    }
}
