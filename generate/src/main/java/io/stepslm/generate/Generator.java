package io.stepslm.generate;

import io.stepslm.model.LanguageModel;

import java.util.ArrayList;
import java.util.List;

/**
 * Autoregressive generation with the model's KV cache: prefill the prompt once, then one token per decoding step
 * at a cost independent of the position (one fused native call per step with the fused kernels). Past the context
 * length it shifts the window as llama.cpp does: it keeps the last half of the context, prefills it again and
 * carries on, so generation never stops for length. Built on {@link ContinuousBatch}: one prompt is a batch of one,
 * several prompts share every step and each row gives what it would give alone.
 */
public final class Generator {

    private final LanguageModel model;
    private final TokenDecoder decoder;

    /** {@code decoder} turns ids into text (for stop strings and the result's text): {@code tokenizer::decode}. */
    public Generator(LanguageModel model, TokenDecoder decoder) {
        this.model = model;
        this.decoder = decoder;
    }

    /** Generates after {@code prompt}, reporting each token to {@code listener} as soon as it is chosen. */
    public Generation generate(int[] prompt, GenerationConfig config, TokenListener listener) {
        try (ContinuousBatch batch = new ContinuousBatch(model, decoder, 1)) {
            Slot slot = batch.join(prompt, config, listener);
            while (!slot.finished()) {
                batch.step();
            }
            return slot.result();
        }
    }

    /**
     * Generates after every prompt at once, row i with configs.get(i) (give each row its own seed for independent
     * samples); each row stops on its own and equals {@code generate(prompts.get(i), configs.get(i), ...)}.
     */
    public List<Generation> generate(List<int[]> prompts, List<GenerationConfig> configs) {
        if (prompts.size() != configs.size() || prompts.isEmpty()) {
            throw new IllegalArgumentException("give one config per prompt, got " + prompts.size() + " prompts and "
                    + configs.size() + " configs");
        }
        try (ContinuousBatch batch = new ContinuousBatch(model, decoder, prompts.size())) {
            List<Slot> slots = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                slots.add(batch.join(prompts.get(i), configs.get(i), TokenListener.NONE));
            }
            while (batch.running() > 0) {
                batch.step();
            }
            List<Generation> out = new ArrayList<>();
            for (Slot s : slots) {
                out.add(s.result());
            }
            return out;
        }
    }
}
