package io.stepslm.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks a token from one row of logits: temperature, then top-k, then top-p (the order of HuggingFace's logits
 * warpers), then a draw from the renormalised distribution. Pure Java on a float[]: for the vocabularies of small
 * models this costs microseconds, far less than the forward pass.
 */
public final class Sampler {

    private final SamplingConfig config;
    private final SplittableRandom random;

    public Sampler(SamplingConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
    }

    /** The chosen token id for logits over the vocabulary (the array is not modified). */
    public int sample(float[] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("cannot sample from an empty logits row");
        }
        if (config.isGreedy()) {
            return argmax(logits);
        }
        double[] probs = probabilities(logits, config.temperature(), config.topK(), config.topP());
        double u = random.nextDouble();
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] > 0) {
                cumulative += probs[i];
                last = i;
                if (u < cumulative) {
                    return i;
                }
            }
        }
        return last; // rounding left u above the final cumulative sum
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
            throw new IllegalStateException("every logit is NaN: the model's weights are corrupt (check the checkpoint)");
        }
        return best;
    }

    /**
     * The filtered, renormalised distribution: softmax(logits / temperature) restricted to the top-k tokens and to
     * the smallest prefix (by probability) whose mass reaches topP. Tokens outside get probability 0.
     */
    static double[] probabilities(float[] logits, double temperature, int topK, double topP) {
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            if (!Float.isNaN(l)) {
                max = Math.max(max, l);
            }
        }
        if (max == Double.NEGATIVE_INFINITY) {
            throw new IllegalStateException("every logit is NaN or -inf: the model's weights are corrupt (check the checkpoint)");
        }
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Float.isNaN(logits[i]) ? 0 : Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        boolean filterK = topK > 0 && topK < n;
        if (filterK || topP < 1) {
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
            int keep = filterK ? topK : n;
            if (topP < 1) {
                double mass = 0;
                int nucleus = 0;
                while (nucleus < keep && mass < topP) {
                    mass += p[order[nucleus++]];
                }
                keep = Math.max(1, nucleus);
            }
            double kept = 0;
            for (int r = 0; r < n; r++) {
                if (r < keep) {
                    kept += p[order[r]];
                } else {
                    p[order[r]] = 0;
                }
            }
            for (int i = 0; i < n; i++) {
                p[i] /= kept;
            }
        }
        return p;
    }
}
