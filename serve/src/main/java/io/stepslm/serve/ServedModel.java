package io.stepslm.serve;

import io.stepslm.model.ModelConfig;
import io.stepslm.tokenizer.Tokenizer;

/**
 * The one model a server or chat loop runs: its public id, its tokenizer, its shape (for limits and
 * {@code /v1/models}), the engine that generates with it and the chat template. Closing it shuts the engine down;
 * the language model itself belongs to the caller.
 */
public record ServedModel(String id, Tokenizer tokenizer, ModelConfig config, long parameterCount, Engine engine,
        ChatTemplate template) implements AutoCloseable {

    public ServedModel {
        if (id.isBlank()) {
            throw new IllegalArgumentException("the model id is empty: give it a name (e.g. the checkpoint's folder)");
        }
    }

    public int contextLength() {
        return config.contextLength();
    }

    @Override
    public void close() {
        engine.close();
    }
}
