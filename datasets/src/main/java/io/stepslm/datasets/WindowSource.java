package io.stepslm.datasets;

import java.io.IOException;

/**
 * A stream of fixed windows of {@code T + 1} token ids: a model reads inputs {@code w[0..T)} and predicts targets
 * {@code w[1..T]}. Training sources cycle over their data forever; validation sources end ({@link #hasNext()}).
 * {@link #state()} is a small value that, passed to the same factory, resumes exactly where this source stands.
 */
public interface WindowSource extends AutoCloseable {

    /** T + 1. */
    int windowLength();

    /** False once a non-cycling source is exhausted; always true for a training stream. */
    boolean hasNext();

    /** The next window, a new array of {@link #windowLength()} ids. */
    int[] next();

    /** The position after the last window returned: resuming from it yields exactly the windows that would follow. */
    LoaderState state();

    /** Up to {@code batchSize} windows (fewer only at the end of a non-cycling source). */
    default int[][] next(int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        int[][] batch = new int[batchSize][];
        int n = 0;
        while (n < batchSize && hasNext()) {
            batch[n++] = next();
        }
        return n == batchSize ? batch : java.util.Arrays.copyOf(batch, n);
    }

    @Override
    void close() throws IOException;
}
