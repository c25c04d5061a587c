package io.stepslm.datasets;

import io.stepslm.tokenizer.ProgressBars;
import java.io.PrintStream;
import java.time.Duration;
import me.tongfei.progressbar.ProgressBar;

/**
 * Progress in MB with MB/s and tokens/s on stderr: a bar on a terminal, plain periodic lines in a log or a pipe.
 * Close it when the work ends.
 */
public final class ConsoleProgress implements Progress, AutoCloseable {
    private final ProgressBar bar;
    private final long startNanos = System.nanoTime();

    public ConsoleProgress(String task, long bytesTotal) {
        this(task, bytesTotal, System.err, ProgressBars.terminal());
    }

    ConsoleProgress(String task, long bytesTotal, PrintStream out, boolean terminal) {
        this.bar = ProgressBars.open(task, bytesTotal, "MB", 1_000_000, out, terminal);
    }

    @Override
    public void update(long bytesDone, long bytesTotal, long tokens) {
        bar.maxHint(Math.max(1, bytesTotal));
        bar.stepTo(Math.min(bytesDone, Math.max(1, bytesTotal)));
        double seconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        bar.setExtraMessage(String.format(" %,d tokens, %.2f M tok/s", tokens, tokens / seconds / 1e6));
    }

    public Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    @Override
    public void close() {
        bar.close();
    }
}
