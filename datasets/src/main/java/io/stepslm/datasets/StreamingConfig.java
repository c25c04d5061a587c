package io.stepslm.datasets;

/**
 * How the streaming loader cuts, shuffles and splits.
 *
 * @param blockSize T, the context length; windows hold T + 1 ids (nanoGPT's block_size)
 * @param threads tokenizer threads; 1 tokenizes on the caller's thread
 * @param shuffleWindows windows in one shuffle buffer (about 4 MB at T = 1024 for 1024 windows); 0 or 1 keeps
 *     the text order. With shuffling on, the file order is also reshuffled every epoch.
 * @param cycle true for training (epochs repeat forever); false for validation (the stream ends, a partial last
 *     window is dropped as nanoGPT and llm.c do)
 * @param split the train/validation split
 * @param part the side of the split this loader reads
 */
public record StreamingConfig(int blockSize, int threads, int shuffleWindows, boolean cycle, Split split,
        Split.Part part) {

    /** Default shuffle buffer: 1024 windows. */
    public static final int DEFAULT_SHUFFLE_WINDOWS = 1024;

    public StreamingConfig {
        if (blockSize < 1) {
            throw new IllegalArgumentException("context length T must be >= 1, got " + blockSize);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("tokenizer threads must be >= 1, got " + threads);
        }
        if (shuffleWindows < 0) {
            throw new IllegalArgumentException("shuffle buffer must be >= 0 windows (0 = off), got " + shuffleWindows);
        }
        if ((long) shuffleWindows * (blockSize + 1) > (1L << 28)) {
            throw new IllegalArgumentException("a shuffle buffer of " + shuffleWindows + " windows of "
                    + (blockSize + 1) + " ids needs more than 1 GiB: lower the shuffle buffer");
        }
    }

    /** Training: all cores, 1024-window shuffle buffer, cycling. */
    public static StreamingConfig training(int blockSize, Split split) {
        return new StreamingConfig(blockSize, Runtime.getRuntime().availableProcessors(), DEFAULT_SHUFFLE_WINDOWS, true,
                split, Split.Part.TRAIN);
    }

    /** Validation: in text order, ending after one pass. */
    public static StreamingConfig validation(int blockSize, Split split) {
        return new StreamingConfig(blockSize, Runtime.getRuntime().availableProcessors(), 0, false, split,
                Split.Part.VALIDATION);
    }

    public int windowLength() {
        return blockSize + 1;
    }

    public StreamingConfig withThreads(int n) {
        return new StreamingConfig(blockSize, n, shuffleWindows, cycle, split, part);
    }

    public StreamingConfig withShuffleWindows(int n) {
        return new StreamingConfig(blockSize, threads, n, cycle, split, part);
    }

    public StreamingConfig withCycle(boolean c) {
        return new StreamingConfig(blockSize, threads, shuffleWindows, c, split, part);
    }

    public StreamingConfig withPart(Split.Part p) {
        return new StreamingConfig(blockSize, threads, shuffleWindows, cycle, split, p);
    }
}
