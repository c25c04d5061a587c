package io.stepslm.datasets;

import java.time.Duration;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A terminal progress bar in MB with MB/s and tokens/s, drawn on stderr; close it when the work ends. */
public final class ConsoleProgress implements Progress, AutoCloseable {
    private final ProgressBar bar;
    private final long startNanos = System.nanoTime();

    public ConsoleProgress(String task, long bytesTotal) {
        this.bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(Math.max(1, bytesTotal))
                .setUnit(" MB", 1_000_000)
                .setStyle(ProgressBarStyle.ASCII)
                .showSpeed()
                .setUpdateIntervalMillis(500)
                .setMaxRenderedLength(110)
                .continuousUpdate()
                .build();
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
