package io.stepslm.train;

import io.stepslm.model.Precision;

/**
 * Dynamic loss scaling for FP16 and the non-finite-step policy for every precision, as one small state machine
 * (PyTorch {@code torch.cuda.amp.GradScaler} semantics): the loss is multiplied by {@link #scale()} before backward;
 * after backward, a step whose gradients contain inf or NaN is skipped and the scale halved; after
 * {@code growthInterval} clean steps in a row the scale doubles. Without scaling (FP32, BF16) the scale stays 1 and
 * bad steps are only skipped and counted. {@code maxBadSteps} bad steps in a row stop training.
 */
public final class LossScaler {

    private static final double MIN_SCALE = 1.0 / (1 << 24); // below this FP16 gradients are all zero anyway

    private final boolean dynamic;
    private final int growthInterval;
    private final int maxBadSteps;
    private double scale;
    private int cleanSteps;
    private int badStepsInARow;
    private long skippedSteps;

    private LossScaler(boolean dynamic, double scale, int growthInterval, int maxBadSteps) {
        this.dynamic = dynamic;
        this.scale = scale;
        this.growthInterval = growthInterval;
        this.maxBadSteps = maxBadSteps;
    }

    /** FP16: dynamic scaling starting at {@code initialScale}. */
    public static LossScaler dynamic(double initialScale, int growthInterval, int maxBadSteps) {
        return new LossScaler(true, initialScale, growthInterval, maxBadSteps);
    }

    /** FP32 and BF16: scale fixed at 1, bad steps still skipped and counted. */
    public static LossScaler fixed(int maxBadSteps) {
        return new LossScaler(false, 1, 1, maxBadSteps);
    }

    public static LossScaler of(TrainConfig c) {
        return c.precision() == Precision.FP16
                ? dynamic(c.initialLossScale(), c.lossScaleGrowthInterval(), c.maxBadSteps())
                : fixed(c.maxBadSteps());
    }

    public double scale() {
        return scale;
    }

    public boolean isDynamic() {
        return dynamic;
    }

    public long skippedSteps() {
        return skippedSteps;
    }

    public int badStepsInARow() {
        return badStepsInARow;
    }

    /**
     * Records the outcome of one step's backward pass and returns whether the optimizer may step.
     *
     * @throws IllegalStateException after {@code maxBadSteps} non-finite steps in a row
     */
    public boolean update(boolean gradientsFinite) {
        if (gradientsFinite) {
            badStepsInARow = 0;
            if (dynamic && ++cleanSteps >= growthInterval) {
                scale = Math.min(scale * 2, 1 << 24); // 2^24 keeps scaled FP32 losses far from overflow
                cleanSteps = 0;
            }
            return true;
        }
        skippedSteps++;
        badStepsInARow++;
        cleanSteps = 0;
        if (dynamic) {
            scale = Math.max(scale / 2, MIN_SCALE);
        }
        if (badStepsInARow >= maxBadSteps) {
            throw new IllegalStateException(badStepsInARow
                    + " training steps in a row had a non-finite (NaN/inf) loss or gradient"
                    + (dynamic ? " even at loss scale " + scale : "")
                    + ": lower the learning rate, use --precision fp32, or raise gradClip; "
                    + "the last good checkpoint is kept");
        }
        return false;
    }

    /** State for checkpoints: {scale, clean steps, bad steps in a row, skipped steps}. */
    public double[] state() {
        return new double[] {scale, cleanSteps, badStepsInARow, skippedSteps};
    }

    public void restore(double[] state) {
        if (state.length != 4) {
            throw new IllegalArgumentException("loss scaler state must have 4 numbers, got " + state.length);
        }
        scale = state[0];
        cleanSteps = (int) state[1];
        badStepsInARow = (int) state[2];
        skippedSteps = (long) state[3];
    }
}
