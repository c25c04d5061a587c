package io.stepslm.train;

/**
 * The training time of one session, fed with each step's own duration (so evaluation and checkpoints never count):
 * per log interval for the progress line, and over the whole session for the final tokens/s, which leaves out the
 * first {@code warmupSteps} steps as torch_reference.py does (TorchScript profiles and optimises its graphs during
 * the first calls).
 */
final class ThroughputClock {

    /** The figures of one log interval. */
    record Interval(int steps, double meanLoss, double tokensPerSec, double msPerStep) {}

    private final long tokensPerStep;
    private final int warmupSteps;
    private long steps;
    private double seconds;
    private long steadySteps;
    private double steadySeconds;
    private int intervalSteps;
    private double intervalSeconds;
    private double intervalLoss;

    ThroughputClock(long tokensPerStep, int warmupSteps) {
        this.tokensPerStep = tokensPerStep;
        this.warmupSteps = warmupSteps;
    }

    /** Counts one finished step of {@code stepSeconds} with training loss {@code loss}. */
    void add(double stepSeconds, double loss) {
        steps++;
        seconds += stepSeconds;
        if (steps > warmupSteps) {
            steadySteps++;
            steadySeconds += stepSeconds;
        }
        intervalSteps++;
        intervalSeconds += stepSeconds;
        intervalLoss += loss;
    }

    /** The interval since the last call (at least one step must have been added), and starts the next one. */
    Interval takeInterval() {
        Interval i = new Interval(intervalSteps, intervalLoss / intervalSteps,
                intervalSteps * tokensPerStep / intervalSeconds, 1000 * intervalSeconds / intervalSteps);
        intervalSteps = 0;
        intervalSeconds = 0;
        intervalLoss = 0;
        return i;
    }

    /** Seconds spent in the session's steps. */
    double seconds() {
        return seconds;
    }

    /** Training tokens/s of the session after the warm-up steps; over all its steps if it was shorter; else 0. */
    double tokensPerSec() {
        if (steadySteps > 0) {
            return steadySteps * tokensPerStep / steadySeconds;
        }
        return seconds > 0 ? steps * tokensPerStep / seconds : 0;
    }
}
