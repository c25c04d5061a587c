package io.stepslm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.stepslm.model.LanguageModel;
import io.stepslm.train.SlidingWindows.Window;
import java.util.ArrayList;
import java.util.List;

/**
 * Token-level perplexity with a strided sliding window (see {@link SlidingWindows}) and bits per byte, which
 * compares models with different tokenizers: total negative log-likelihood in bits over the UTF-8 bytes of the
 * text (as in The Pile paper and llm.c). Each text is scored as the model saw documents in training: an
 * end-of-text token first (GPT-2's document separator), so the text's first token is scored too.
 */
public final class Perplexity {

    /** The score of one text (or a total). */
    public record Score(String source, long tokens, long bytes, double nll) {
        /** Mean negative log-likelihood per token, in nats: the validation loss. */
        public double loss() {
            return nll / tokens;
        }

        public double perplexity() {
            return Math.exp(loss());
        }

        public double bitsPerByte() {
            return nll / Math.log(2) / bytes;
        }

        public Score plus(Score other, String name) {
            return new Score(name, tokens + other.tokens, bytes + other.bytes, nll + other.nll);
        }
    }

    private Perplexity() {}

    /**
     * Scores {@code ids} (the end-of-text id followed by the text's ids) whose text has {@code bytes} UTF-8 bytes,
     * running {@code batch} windows per forward pass.
     */
    public static Score score(LanguageModel model, String source, int[] ids, long bytes, int context, int stride,
                              int batch) {
        if (context > model.config().contextLength()) {
            throw new IllegalArgumentException("--context " + context + " exceeds the model's context length "
                    + model.config().contextLength() + ": use --context " + model.config().contextLength()
                    + " or less");
        }
        if (ids.length < 2) {
            throw new IllegalArgumentException(source + " has no token to score: it is empty");
        }
        List<Window> windows = SlidingWindows.plan(ids.length, context, stride);
        double nll = 0;
        long scored = 0;
        try (NDManager base = NDManager.newBaseManager(model.runtime().device())) {
            for (int from = 0; from < windows.size(); ) {
                // windows of one length per forward pass (only the last window can be shorter)
                int len = windows.get(from).length();
                List<Window> group = new ArrayList<>();
                while (from < windows.size() && group.size() < batch && windows.get(from).length() == len) {
                    group.add(windows.get(from++));
                }
                try (NDManager sm = base.newSubManager()) {
                    int b = group.size();
                    int[] x = new int[b * len];
                    int[] y = new int[b * len];
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(ids, group.get(i).begin(), x, i * len, len);
                        System.arraycopy(ids, group.get(i).begin() + 1, y, i * len, len);
                    }
                    NDArray tokens = sm.create(x, new Shape(b, len)); // (B, T)
                    NDArray targets = sm.create(y, new Shape(b, len)).toType(DataType.INT64, false); // (B, T)
                    NDArray logp = model.logits(tokens, false).logSoftmax(-1); // (B, T, V)
                    float[] picked = logp.gather(targets.expandDims(-1), -1).toFloatArray(); // (B, T, 1)
                    for (int i = 0; i < b; i++) {
                        for (int r = group.get(i).scoreFrom(); r < len; r++) {
                            nll -= picked[i * len + r];
                            scored++;
                        }
                    }
                }
            }
        }
        return new Score(source, scored, bytes, nll);
    }
}
