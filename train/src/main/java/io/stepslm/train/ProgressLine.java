package io.stepslm.train;

import java.util.Locale;

/** The one-line progress display, as a pure function of the figures it shows (nanoGPT's log line plus ETA). */
public final class ProgressLine {

    private ProgressLine() {}

    public static String format(long step, long maxSteps, double loss, double lr, double gradNorm, double tokensPerSec,
                                double msPerStep, double mfu) {
        long etaSeconds = Math.round((maxSteps - step) * msPerStep / 1000);
        String line = String.format(Locale.ROOT,
                "step %d/%d | loss %.4f | lr %.2e | grad norm %.3f | %,.0f tok/s | %.1f ms/step | ETA %s",
                step, maxSteps, loss, lr, gradNorm, tokensPerSec, msPerStep, duration(etaSeconds));
        return mfu > 0 ? line + String.format(Locale.ROOT, " | MFU %.1f%%", 100 * mfu) : line;
    }

    /** 75 -> "1m15s", 3725 -> "1h02m05s". */
    public static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm%02ds", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }
}
