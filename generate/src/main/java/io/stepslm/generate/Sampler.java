package io.stepslm.generate;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Picks the next token of one sequence from a row of logits, applying the controls of {@link SamplingConfig} in
 * the order documented there, and remembers what it needs for the penalties (the latest tokens, the counts of
 * generated ones). Everything runs on primitive arrays in O(V) per token without sorting the vocabulary: top-k finds
 * its threshold in one pass with a k-sized heap, top-p by selection (expected linear time), and probabilities are
 * only computed for the tokens that top-k kept.
 *
 * <p>One sampler per sequence; not thread-safe.
 */
public final class Sampler {

    private final SamplingConfig config;
    private final SplittableRandom random;
    private final int vocab;
    private final int[] biasIds;
    private final float[] biasValues;
    private final int[] recent; // ring of the latest tokens (prompt and output), for the repetition penalty
    private int recentCount;
    private int recentNext;
    private final int[] stamp; // per id: the last penalty pass that saw it (distinct ids without a set)
    private int pass;
    private final int[] counts; // per id: times generated, for the presence and frequency penalties
    private int[] generatedIds = new int[16]; // distinct ids generated so far
    private int generatedDistinct;
    // scratch of the filters, reused across tokens
    private int[] candidates;
    private double[] values;
    private double[] scratch;
    private double[] weights;
    private double[] weightScratch;
    private float[] heap; // top-k's k largest logits

    /**
     * A sampler for a model of {@code vocab} logits per row and a context of {@code contextLength} positions (the
     * window of {@code repeatLastN = -1}). Logit-bias ids must be below {@code vocab}.
     */
    public Sampler(SamplingConfig config, int vocab, int contextLength) {
        this.config = config;
        this.vocab = vocab;
        this.random = new SplittableRandom(config.seed());
        this.biasIds = new int[config.logitBias().size()];
        this.biasValues = new float[biasIds.length];
        int i = 0;
        for (Map.Entry<Integer, Float> e : config.logitBias().entrySet()) {
            if (e.getKey() >= vocab) {
                throw new IllegalArgumentException("logit bias names token " + e.getKey() + " but the model's "
                        + "vocabulary is [0, " + vocab + "): bias ids from the model's tokenizer");
            }
            biasIds[i] = e.getKey();
            biasValues[i++] = e.getValue();
        }
        boolean repeat = config.repeatPenalty() != 1.0 && config.repeatLastN() != 0;
        this.recent = new int[repeat ? (config.repeatLastN() < 0 ? contextLength : config.repeatLastN()) : 0];
        this.stamp = repeat ? new int[vocab] : new int[0];
        boolean counted = config.presencePenalty() != 0 || config.frequencyPenalty() != 0;
        this.counts = counted ? new int[vocab] : new int[0];
    }

    /** Records a prompt token: it counts for the repetition penalty (not for presence and frequency). */
    public void observePrompt(int token) {
        remember(token);
    }

    /**
     * Applies the controls to {@code logits} (in place: the array holds the penalised logits afterwards), picks a
     * token and records it as generated.
     */
    public int sample(float[] logits) {
        if (logits.length != vocab) {
            throw new IllegalArgumentException("logits row has " + logits.length + " entries, the sampler expects "
                    + vocab);
        }
        applyBiasAndPenalties(logits);
        int token;
        if (config.isGreedy()) {
            token = argmax(logits);
        } else {
            int n = filter(logits);
            token = draw(n);
        }
        remember(token);
        if (counts.length > 0) {
            if (counts[token]++ == 0) {
                if (generatedDistinct == generatedIds.length) {
                    generatedIds = Arrays.copyOf(generatedIds, 2 * generatedDistinct);
                }
                generatedIds[generatedDistinct++] = token;
            }
        }
        return token;
    }

    /** Steps 1-3 of the documented order: logit bias, repetition penalty, presence and frequency penalties. */
    void applyBiasAndPenalties(float[] logits) {
        for (int i = 0; i < biasIds.length; i++) {
            logits[biasIds[i]] += biasValues[i];
        }
        if (recent.length > 0 && recentCount > 0) {
            float penalty = (float) config.repeatPenalty();
            pass++;
            for (int i = 0; i < recentCount; i++) {
                int id = recent[i];
                if (stamp[id] != pass) { // each distinct id once, however often it occurs in the window
                    stamp[id] = pass;
                    logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
                }
            }
        }
        if (counts.length > 0) {
            for (int i = 0; i < generatedDistinct; i++) {
                int id = generatedIds[i];
                logits[id] -= (float) (counts[id] * config.frequencyPenalty() + config.presencePenalty());
            }
        }
    }

    /**
     * Steps 5-8: temperature, top-k, top-p and min-p over the (penalised) logits. Leaves the kept ids in ascending
     * order in {@code candidates[0, n)} with their unnormalised probabilities in {@code values[0, n)}; returns n.
     */
    int filter(float[] logits) {
        ensureScratch();
        // top-k on l / T keeps the same ids as on l: the k-th largest logit first, ties at it kept
        int k = config.topK();
        float kth = k > 0 && k < vocab ? kthLargest(logits, k) : Float.NEGATIVE_INFINITY;
        int n = 0;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float l = logits[i];
            if (!Float.isNaN(l) && l != Float.NEGATIVE_INFINITY && l >= kth) {
                candidates[n] = i;
                values[n++] = l;
                max = Math.max(max, l);
            }
        }
        if (n == 0) {
            throw new IllegalStateException("every logit is NaN or -inf: the model's weights are corrupt (check the "
                    + "checkpoint) or the logit bias bans every token");
        }
        double t = config.temperature();
        for (int i = 0; i < n; i++) {
            values[i] = Math.exp((values[i] - max) / t); // unnormalised probability
        }
        if (config.topP() < 1) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += values[i];
            }
            System.arraycopy(values, 0, weights, 0, n);
            n = keepAtLeast(n, threshold(values, weights, n, config.topP() * sum));
        }
        if (config.minP() > 0) {
            double top = 0;
            for (int i = 0; i < n; i++) {
                top = Math.max(top, values[i]);
            }
            n = keepAtLeast(n, config.minP() * top);
        }
        return n;
    }

    /** The ids that the filters keep for these logits, ascending (tests pin the sets); logits are not changed. */
    int[] kept(float[] logits) {
        int n = filter(logits.clone());
        return Arrays.copyOf(candidates, n);
    }

    private int draw(int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += values[i];
        }
        double u = random.nextDouble() * sum;
        double cumulative = 0;
        for (int i = 0; i < n; i++) {
            cumulative += values[i];
            if (u < cumulative) {
                return candidates[i];
            }
        }
        return candidates[n - 1]; // rounding left u at the final cumulative sum
    }

    /**
     * The k-th largest of the logits that are neither NaN nor -inf, counting equal values separately, or -inf when
     * fewer than k are: one pass with a min-heap of the k largest seen so far ({@code heap}, reused), so that top-k
     * reads the vocabulary once and most logits cost a single comparison with the heap's root.
     */
    private float kthLargest(float[] logits, int k) {
        if (heap == null || heap.length < k) {
            heap = new float[k];
        }
        float[] h = heap;
        int size = 0;
        for (float l : logits) {
            if (Float.isNaN(l) || l == Float.NEGATIVE_INFINITY) {
                continue;
            }
            if (size < k) {
                int c = size++; // sift up
                while (c > 0 && h[(c - 1) / 2] > l) {
                    h[c] = h[(c - 1) / 2];
                    c = (c - 1) / 2;
                }
                h[c] = l;
            } else if (l > h[0]) {
                int c = 0; // replace the root and sift down
                while (true) {
                    int child = 2 * c + 1;
                    if (child >= k) {
                        break;
                    }
                    if (child + 1 < k && h[child + 1] < h[child]) {
                        child++;
                    }
                    if (h[child] >= l) {
                        break;
                    }
                    h[c] = h[child];
                    c = child;
                }
                h[c] = l;
            }
        }
        return size < k ? Float.NEGATIVE_INFINITY : h[0];
    }

    /** Compacts candidates and values to the entries whose value is at least {@code min}, keeping their order. */
    private int keepAtLeast(int n, double min) {
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (values[i] >= min) {
                candidates[m] = candidates[i];
                values[m++] = values[i];
            }
        }
        return m;
    }

    /**
     * The value v* such that the entries above v* weigh less than {@code target} and those at or above v* weigh at
     * least {@code target} (the largest v* if the total is short): keeping every entry >= v* keeps the smallest set
     * of the largest values that reaches the target, with all its ties. Quickselect on a copy, expected O(n).
     */
    private double threshold(double[] vals, double[] w, int n, double target) {
        double[] a = scratch;
        double[] ws = weightScratch;
        System.arraycopy(vals, 0, a, 0, n);
        System.arraycopy(w, 0, ws, 0, n);
        int lo = 0;
        int hi = n; // the undecided range [lo, hi); everything above it was already counted in `above`
        double above = 0;
        double min = Double.POSITIVE_INFINITY;
        while (lo < hi) {
            double pivot = a[lo + (hi - lo) / 2];
            // three-way partition of [lo, hi): greater first, then equal, then smaller
            int gt = lo;
            int i = lo;
            int lt = hi;
            while (i < lt) {
                if (a[i] > pivot) {
                    swap(a, ws, i++, gt++);
                } else if (a[i] < pivot) {
                    swap(a, ws, i, --lt);
                } else {
                    i++;
                }
            }
            double wg = 0;
            for (int j = lo; j < gt; j++) {
                wg += ws[j];
            }
            if (above + wg >= target) {
                hi = gt; // the threshold lies among the greater values
                continue;
            }
            double we = 0;
            for (int j = gt; j < lt; j++) {
                we += ws[j];
            }
            if (above + wg + we >= target) {
                return pivot;
            }
            above += wg + we;
            min = pivot;
            lo = lt;
        }
        return min; // the total weight is below the target: keep everything
    }

    private static void swap(double[] a, double[] w, int i, int j) {
        double t = a[i];
        a[i] = a[j];
        a[j] = t;
        t = w[i];
        w[i] = w[j];
        w[j] = t;
    }

    private void ensureScratch() {
        if (candidates == null) {
            candidates = new int[vocab];
            values = new double[vocab];
            scratch = new double[vocab];
            weights = new double[vocab];
            weightScratch = new double[vocab];
        }
    }

    private void remember(int token) {
        if (recent.length == 0) {
            return;
        }
        recent[recentNext] = token;
        recentNext = (recentNext + 1) % recent.length;
        recentCount = Math.min(recentCount + 1, recent.length);
    }

    /** Index of the largest logit (the first one on ties); NaN logits are never chosen. */
    public static int argmax(float[] logits) {
        int best = -1;
        for (int i = 0; i < logits.length; i++) {
            if (!Float.isNaN(logits[i]) && (best < 0 || logits[i] > logits[best])) {
                best = i;
            }
        }
        if (best < 0) {
            throw new IllegalStateException(
                    "every logit is NaN: the model's weights are corrupt (check the checkpoint)");
        }
        return best;
    }

    /**
     * Log-probabilities of {@code token} and of the {@code top} most likely ids (most likely first, lower id first
     * on ties) under softmax(raw logits); {@code top} = -1 gives {@link TokenLogprobs#none}.
     */
    public static TokenLogprobs logprobs(float[] raw, int token, int top) {
        if (top < 0) {
            return TokenLogprobs.none(token);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float l : raw) {
            if (!Float.isNaN(l)) {
                max = Math.max(max, l);
            }
        }
        double sum = 0;
        for (float l : raw) {
            if (!Float.isNaN(l)) {
                sum += Math.exp(l - max);
            }
        }
        double lse = max + Math.log(sum);
        int n = Math.min(top, raw.length);
        int[] ids = new int[n];
        double[] lps = new double[n];
        // n <= 20: keep a small sorted list (insertion), one pass over the vocabulary
        int filled = 0;
        for (int i = 0; i < raw.length; i++) {
            float l = raw[i];
            if (Float.isNaN(l) || n == 0 || (filled == n && l <= raw[ids[n - 1]])) {
                continue;
            }
            int j = Math.min(filled, n - 1);
            while (j > 0 && raw[ids[j - 1]] < l) {
                ids[j] = ids[j - 1];
                j--;
            }
            ids[j] = i;
            filled = Math.min(filled + 1, n);
        }
        for (int i = 0; i < filled; i++) {
            lps[i] = raw[ids[i]] - lse;
        }
        return new TokenLogprobs(token, raw[token] - lse, Arrays.copyOf(ids, filled), Arrays.copyOf(lps, filled));
    }
}
