package io.stepslm.train;

import io.stepslm.datasets.LoaderState;
import io.stepslm.datasets.SplitMix64;
import io.stepslm.datasets.WindowSource;
import java.util.Arrays;

/**
 * Windows of {@code T + 1} ids over token ids held in memory: random offsets for training, exactly as nanoGPT's
 * {@code get_batch} (uniform start in {@code [0, n - T - 1)}, with replacement), or consecutive windows that
 * overlap by one token for validation (every target scored once). The random offset of sample k is a pure function
 * of (seed, k), so {@link #state()} is just the sample counter and resuming is exact.
 */
public final class TokenWindows implements WindowSource {

    private static final String RANDOM = "memory-random";
    private static final String SEQUENTIAL = "memory-sequential";

    private final int[] ids;
    private final int window;
    private final boolean random;
    private final long seed;
    private final String signature;
    private long samples;

    private TokenWindows(int[] ids, int context, boolean random, LoaderState state) {
        if (ids.length < context + 1) {
            throw new IllegalArgumentException("the data has " + ids.length
                    + " tokens, fewer than one window of context + 1 = "
                    + (context + 1) + ": use more text or a smaller --context");
        }
        this.ids = ids;
        this.window = context + 1;
        this.random = random;
        this.seed = state.seed();
        this.signature = "n=" + ids.length + ",hash=" + Integer.toHexString(Arrays.hashCode(ids)) + ",T=" + context;
        String kind = random ? RANDOM : SEQUENTIAL;
        if (!state.isInitial()) {
            if (!state.kind().equals(kind) || !state.signature().equals(signature)) {
                throw new IllegalArgumentException("the saved data position (" + state.kind() + ", " + state.signature()
                        + ") does not match this data (" + kind + ", " + signature
                        + "): resume on the same data and context");
            }
            samples = state.samples();
        }
    }

    /** nanoGPT-style random windows, cycling forever. */
    public static TokenWindows random(int[] ids, int context, LoaderState state) {
        return new TokenWindows(ids, context, true, state);
    }

    /** Consecutive windows {@code [kT, kT + T]} until the data ends. */
    public static TokenWindows sequential(int[] ids, int context) {
        return new TokenWindows(ids, context, false, LoaderState.initial(0));
    }

    @Override
    public int windowLength() {
        return window;
    }

    @Override
    public boolean hasNext() {
        return random || (samples + 1) * (window - 1) < ids.length;
    }

    @Override
    public int[] next() {
        if (!hasNext()) {
            throw new IllegalStateException("the validation windows are exhausted: check hasNext()");
        }
        // counter-based: sample k needs no replay of samples 0..k-1
        long start = random ? Math.floorMod(SplitMix64.mix(seed, samples), (long) ids.length - window + 1)
                : samples * (window - 1);
        samples++;
        return Arrays.copyOfRange(ids, (int) start, (int) start + window);
    }

    @Override
    public LoaderState state() {
        return new LoaderState(LoaderState.VERSION, random ? RANDOM : SEQUENTIAL, seed, 0, 0, 0, 0, 0, 0, samples,
                signature);
    }

    @Override
    public void close() {}
}
