package io.stepslm.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.stepslm.model.KvCache;
import io.stepslm.model.LanguageModel;
import java.util.Arrays;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Autoregressive generation with the model's KV cache: prefill the prompt once, then one token per forward step at
 * a cost independent of the position. Past the context length it shifts the window as llama.cpp does: it keeps the
 * last half of the context, prefills it again and carries on, so generation never stops for length.
 */
public final class Generator {

    private final LanguageModel model;

    public Generator(LanguageModel model) {
        this.model = model;
    }

    /**
     * Generates up to {@code config.maxNewTokens()} tokens after {@code prompt}, stopping after any of
     * {@code stopTokens} (which is included in the result). Each new token is passed to {@code onToken} as soon as it
     * is chosen (for streaming output). Returns the new tokens only.
     */
    public int[] generate(int[] prompt, SamplingConfig config, Set<Integer> stopTokens, IntConsumer onToken) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token (e.g. the end-of-text "
                    + "token to start a fresh document)");
        }
        int vocab = model.config().vocabSize();
        for (int id : prompt) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("prompt token " + id + " is outside the model's vocabulary of " + vocab
                        + ": was the prompt encoded with the tokenizer this model was trained with?");
            }
        }
        int context = model.config().contextLength();
        Sampler sampler = new Sampler(config);
        int[] history = Arrays.copyOf(prompt, prompt.length + config.maxNewTokens());
        int length = prompt.length;
        int[] out = new int[config.maxNewTokens()];
        int produced = 0;
        try (NDManager manager = NDManager.newBaseManager(model.runtime().device());
                KvCache cache = model.newCache(1)) {
            // prefill: the last `context` tokens of the prompt
            float[] next = prefill(manager, cache, history, Math.max(0, length - context), length);
            while (produced < config.maxNewTokens()) {
                int token = sampler.sample(next);
                out[produced++] = token;
                history[length++] = token;
                onToken.accept(token);
                if (stopTokens.contains(token) || produced == config.maxNewTokens()) {
                    break;
                }
                if (cache.position() == cache.capacity()) {
                    // context shift: keep the last half of the window and prefill it again
                    cache.reset();
                    next = prefill(manager, cache, history, length - context / 2, length);
                } else {
                    next = prefill(manager, cache, history, length - 1, length);
                }
            }
        }
        return Arrays.copyOf(out, produced);
    }

    /** Feeds history[from, to) into the cache and returns the logits of the last position. */
    private float[] prefill(NDManager manager, KvCache cache, int[] history, int from, int to) {
        try (NDManager step = manager.newSubManager()) {
            NDArray tokens = step.create(Arrays.copyOfRange(history, from, to), new Shape(1, to - from)); // (1, T)
            NDArray logits = model.step(tokens, cache); // (1, T, V)
            return logits.get(new NDIndex("0, -1")).toFloatArray(); // (V)
        }
    }
}
