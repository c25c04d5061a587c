package io.stepslm.tokenizer;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarRenderer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress for long text jobs (tokenizer training, data preparation): on a terminal a bar redrawn in place; in a
 * log file or a pipe, where {@code \r} redraws pile up as garbage, one plain line every {@value #PLAIN_INTERVAL_MILLIS}
 * ms (and a last one at the end) with the figures measured so far.
 */
public final class ProgressBars {
    /** How often a plain progress line is printed. */
    public static final int PLAIN_INTERVAL_MILLIS = 10_000;

    private ProgressBars() {}

    /** True when output goes to a terminal (the JVM has a console only when stdin and stdout are terminals). */
    public static boolean terminal() {
        return System.console() != null;
    }

    /**
     * A bar over {@code max} units of {@code unitSize} counts each, named {@code unit} ("" for plain counts),
     * drawn on {@code out}: redrawn in place when {@code terminal}, else as plain periodic lines.
     */
    public static ProgressBar open(String task, long max, String unit, long unitSize, PrintStream out,
            boolean terminal) {
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(1, max))
                .setStyle(ProgressBarStyle.ASCII).continuousUpdate();
        if (!unit.isEmpty()) {
            b.setUnit(" " + unit, unitSize);
        }
        if (terminal) {
            b.setConsumer(new ConsoleProgressBarConsumer(out, 110)).setUpdateIntervalMillis(500).showSpeed();
        } else {
            b.setConsumer(new DelegatingProgressBarConsumer(out::println))
                    .setUpdateIntervalMillis(PLAIN_INTERVAL_MILLIS).setRenderer(plain(unit, unitSize));
        }
        return b.build();
    }

    /** "prepare 42% (117.3 of 280.0 MB), 12.1 MB/s, extra": the speed only once a second has passed, never "?". */
    static ProgressBarRenderer plain(String unit, long unitSize) {
        return (state, width) -> {
            long done = state.getCurrent();
            long max = Math.max(1, state.getMax());
            double seconds = state.getTotalElapsed().toMillis() / 1000.0;
            StringBuilder line = new StringBuilder(state.getTaskName()).append(' ')
                    .append(String.format(Locale.ROOT, "%d%% (%s of %s%s)", Math.min(100, done * 100 / max),
                            amount(done, unitSize), amount(max, unitSize), unit.isEmpty() ? "" : " " + unit));
            if (seconds >= 1) {
                double rate = (done - state.getStart()) / (double) unitSize / seconds;
                line.append(String.format(Locale.ROOT, ", %.1f%s/s", rate, unit.isEmpty() ? "" : " " + unit));
            }
            String extra = state.getExtraMessage();
            if (extra != null && !extra.isBlank()) {
                line.append(',').append(extra.startsWith(" ") ? "" : " ").append(extra);
            }
            return line.toString();
        };
    }

    private static String amount(long count, long unitSize) {
        return unitSize == 1 ? String.format(Locale.ROOT, "%,d", count) : String.format(Locale.ROOT, "%,.1f",
                count / (double) unitSize);
    }
}
