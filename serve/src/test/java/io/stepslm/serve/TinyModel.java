package io.stepslm.serve;

import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.ReferenceKernels;
import io.stepslm.tokenizer.CharTokenizer;
import io.stepslm.tokenizer.Tokenizer;

/**
 * A random-weight model over a character tokenizer of printable ASCII: enough to exercise every endpoint with
 * deterministic text (same seed, same text) in milliseconds per token. A test class holds one in a
 * {@code @AutoClose static final} field: built once for the class, its native memory freed after the last test.
 */
final class TinyModel implements AutoCloseable {

    static final int CONTEXT = 256;
    static final String ID = "tiny";

    final Tokenizer tokenizer;
    final LanguageModel model;

    TinyModel() {
        this(CONTEXT, 2, 32);
    }

    /** A larger one where a generation of a whole context takes long enough to be interrupted (about a second). */
    static TinyModel slow() {
        return new TinyModel(1024, 4, 128);
    }

    private TinyModel(int context, int layers, int width) {
        StringBuilder chars = new StringBuilder("\n");
        for (char c = ' '; c <= '~'; c++) {
            chars.append(c);
        }
        tokenizer = CharTokenizer.fromText(chars.toString());
        model = LanguageModel.create(ModelConfig.gpt(tokenizer.vocabSize(), context, layers, 2, width, 0, false),
                ModelRuntime.cpu(new ReferenceKernels()));
    }

    /** A served model on a fresh engine of {@code slots} slots and {@code queue} queue places. */
    ServedModel serve(int slots, int queue) {
        return new ServedModel(ID, tokenizer, model.config(), model.parameterCount(),
                new BatchEngine(model, tokenizer::decode, slots, queue), ChatTemplate.transcript());
    }

    @Override
    public void close() {
        model.close();
    }
}
