package io.stepslm.datasets;

/**
 * Settings of {@code stepslm data prepare}.
 *
 * @param split the train/validation split
 * @param threads tokenizer threads
 * @param shardTokens tokens per shard before a new one starts (nanoGPT's and llm.c's FineWeb scripts use 100 M)
 * @param overwrite replace an existing output folder (only after the new one is complete)
 */
public record PrepareConfig(Split split, int threads, long shardTokens, boolean overwrite) {

    public static final long DEFAULT_SHARD_TOKENS = 100_000_000L;

    public PrepareConfig {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        // One shard is memory-mapped as one buffer, which Java limits to 2 GiB; uint32 ids take 4 bytes.
        long max = (Integer.MAX_VALUE - ShardHeader.BYTES) / 4;
        if (shardTokens < 1 || shardTokens > max) {
            throw new IllegalArgumentException("tokens per shard must be in [1, " + max + "], got " + shardTokens);
        }
    }

    /** All cores, 100 M tokens per shard, no overwrite. */
    public static PrepareConfig defaults(Split split) {
        return new PrepareConfig(split, Runtime.getRuntime().availableProcessors(), DEFAULT_SHARD_TOKENS, false);
    }

    public PrepareConfig withThreads(int n) {
        return new PrepareConfig(split, n, shardTokens, overwrite);
    }

    public PrepareConfig withShardTokens(long n) {
        return new PrepareConfig(split, threads, n, overwrite);
    }

    public PrepareConfig withOverwrite(boolean o) {
        return new PrepareConfig(split, threads, shardTokens, o);
    }
}
