package io.stepslm.train;

/**
 * The learning rate at an optimizer step, as a pure function: a linear warmup from {@code peak / (warmup + 1)} to
 * {@code peak}, then cosine (nanoGPT {@code get_lr}), linear or no decay down to {@code floor} at {@code total}, and
 * the floor afterwards. Steps are 0-based: step 0 is the first update.
 */
public record LrSchedule(Schedule kind, double peak, double floor, int warmup, int total) {

    public LrSchedule {
        if (kind == null) {
            throw new IllegalArgumentException("schedule must be cosine, linear or constant, got null");
        }
        if (warmup < 0 || total < 0) {
            throw new IllegalArgumentException("warmup and total steps must be >= 0, got warmup=" + warmup
                    + " total=" + total);
        }
    }

    public static LrSchedule of(TrainConfig c) {
        return new LrSchedule(c.schedule(), c.learningRate(), c.minLearningRate(), c.warmupSteps(), c.maxSteps());
    }

    public double at(long step) {
        if (step < warmup) {
            // (it + 1) / (warmup + 1): nanoGPT's warmup never uses a learning rate of exactly 0
            return peak * (step + 1) / (warmup + 1);
        }
        if (kind == Schedule.CONSTANT) {
            return peak;
        }
        if (step >= total) {
            return floor;
        }
        double progress = (double) (step - warmup) / Math.max(1, total - warmup); // in [0, 1)
        double coefficient = kind == Schedule.COSINE ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
        return floor + coefficient * (peak - floor);
    }
}
