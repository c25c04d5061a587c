package io.stepslm.datasets;

/** Receives progress of long data work; the CLI draws a bar with bytes/s and tokens/s ({@link ConsoleProgress}). */
@FunctionalInterface
public interface Progress {

    /**
     * @param bytesDone raw bytes read so far
     * @param bytesTotal raw bytes to read in all
     * @param tokens tokens produced so far
     */
    void update(long bytesDone, long bytesTotal, long tokens);
}
