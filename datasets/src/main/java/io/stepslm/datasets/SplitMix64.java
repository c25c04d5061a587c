package io.stepslm.datasets;

/**
 * SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014): a fully
 * specified generator, so that a seed gives the same shuffles and offsets on every JVM, and a counter-based use
 * ({@code mix(seed, k)}) lets a loader jump to its k-th draw without replaying the first k.
 */
public final class SplitMix64 {
    private long state;

    SplitMix64(long seed) {
        this.state = seed;
    }

    /** The k-th output for a seed, computed directly (the generator's state after k steps is seed + k * gamma). */
    public static long mix(long seed, long k) {
        return finish(seed + (k + 1) * 0x9E3779B97F4A7C15L);
    }

    static long finish(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    long nextLong() {
        state += 0x9E3779B97F4A7C15L;
        return finish(state);
    }

    /** Uniform in [0, bound) by Lemire's multiply-and-reject, unbiased. */
    long nextLong(long bound) {
        return below(nextLong(), bound, this);
    }

    static long below(long first, long bound, SplitMix64 more) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        long r = first >>> 1; // 63 uniform bits
        long m = bound - 1;
        if ((bound & m) == 0) {
            return r & m;
        }
        long u = r;
        while (u - (r = u % bound) + m < 0) {
            u = more.nextLong() >>> 1;
        }
        return r;
    }

    /** Fisher-Yates shuffle of {@code a} in place. */
    void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = (int) nextLong(i + 1L);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
