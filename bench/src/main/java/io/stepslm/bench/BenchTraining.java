package io.stepslm.bench;

import com.google.gson.JsonObject;
import io.stepslm.model.Precision;
import io.stepslm.train.TrainConfig;
import java.util.SplittableRandom;

/**
 * What {@code bench model} and {@code bench gpu} train on when they time the trainer's step: one recipe and one
 * token stream, so that the two benchmarks measure the same work.
 */
final class BenchTraining {

    private BenchTraining() {
    }

    /**
     * The shakespeare-char recipe (nanoGPT's optimizer settings: AdamW 0.9/0.99, weight decay 0.1) with clip 1.0, no
     * accumulation, and the benchmark's batch, context, precision and step count; {@code command} names the
     * benchmark in a validation error.
     */
    static TrainConfig config(int batch, int context, Precision precision, int steps, String command) {
        JsonObject o = new JsonObject();
        o.addProperty("batchSize", batch);
        o.addProperty("context", context);
        o.addProperty("accumulation", 1);
        o.addProperty("gradClip", 1.0);
        o.addProperty("precision", precision.id());
        o.addProperty("maxSteps", steps);
        return TrainConfig.shakespeareChar().withOverrides(o, command);
    }

    /** Fixed-seed random ids below {@code vocab}, at least four batches of windows long (and 100,000 at least). */
    static int[] randomTokens(int batch, int context, int vocab) {
        return new SplittableRandom(1).ints(Math.max(100_000, 4 * batch * (context + 1)), 0, vocab).toArray();
    }
}
