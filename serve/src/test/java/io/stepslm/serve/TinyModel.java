package io.stepslm.serve;

import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.ReferenceKernels;
import io.stepslm.tokenizer.CharTokenizer;
import io.stepslm.tokenizer.Tokenizer;

/**
 * A random-weight model over a character tokenizer of printable ASCII: enough to exercise every endpoint with
 * deterministic text (same seed, same text) in milliseconds per token.
 */
final class TinyModel implements AutoCloseable {

    static final int CONTEXT = 256;
    static final String ID = "tiny";

    final Tokenizer tokenizer;
    final LanguageModel model;

    TinyModel() {
        StringBuilder chars = new StringBuilder("\n");
        for (char c = ' '; c <= '~'; c++) {
            chars.append(c);
        }
        tokenizer = CharTokenizer.fromText(chars.toString());
        model = LanguageModel.create(ModelConfig.gpt(tokenizer.vocabSize(), CONTEXT, 2, 2, 32, 0, false),
                ModelRuntime.cpu(new ReferenceKernels()));
    }

    /** A served model on a fresh engine of {@code slots} slots and {@code queue} queue places. */
    ServedModel serve(int slots, int queue) {
        return new ServedModel(ID, tokenizer, model.config(), model.parameterCount(),
                new GeneratorEngine(model, slots, queue), ChatTemplate.transcript());
    }

    @Override
    public void close() {
        model.close();
    }
}
