package io.stepslm.experiment;

import io.stepslm.model.ModelConfig;
import io.stepslm.train.TrainConfig;
import java.util.List;

/**
 * Everything measured on one finished run, stored as {@code result.json} in its run folder: a later invocation
 * reuses the run instead of training it again.
 *
 * @param checkpoint the scored checkpoint, relative to the experiment's output folder
 * @param trainSeconds wall-clock seconds of training steps (evaluation and checkpoints excluded), over all sessions
 * @param cpuSecondsPerStep process CPU seconds per step after the first 10 (warm-up), NaN when the run was resumed
 * @param tokensPerSecond training tokens over trainSeconds
 * @param valLoss loss on the validation file as {@code stepslm eval --checkpoint <checkpoint> <file>} computes it
 *                (sliding window of the model's context, stride half of it)
 * @param curve the trainer's evaluations (its first evalBatches validation batches), with cumulative time
 */
public record RunResult(String name, String pair, String kind, long seed, ModelConfig model, TrainConfig train,
                        long parameters, long nonEmbeddingParameters, int blocks, double flopsPerToken,
                        long steps, long tokens, double trainSeconds, double cpuSecondsPerStep, double tokensPerSecond,
                        String checkpoint, int evalContext, int evalStride, long evalTokens, double valLoss,
                        double perplexity, double bitsPerByte, List<CurvePoint> curve, Diagnosis diagnosis) {

    /** The same run's numbers under another run's name and kind (a time-matched run that equals this one). */
    public RunResult as(String otherName, String otherKind) {
        return new RunResult(otherName, pair, otherKind, seed, model, train, parameters, nonEmbeddingParameters, blocks,
                flopsPerToken, steps, tokens, trainSeconds, cpuSecondsPerStep, tokensPerSecond, checkpoint, evalContext,
                evalStride, evalTokens, valLoss, perplexity, bitsPerByte, curve, diagnosis);
    }

    /** One evaluation during training. */
    public record CurvePoint(long step, long tokens, double seconds, double valLoss) {}
}
