package io.stepslm.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final SamplingConfig PLAIN = SamplingConfig.defaults().withFilters(1.0, 0, 1.0, 0);

    private static float[] logs(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) Math.log(probs[i]);
        }
        return l;
    }

    private static int[] kept(SamplingConfig c, float[] logits) {
        return new Sampler(c, logits.length, 16).kept(logits);
    }

    @Test
    void topKKeepsTheKLargestWithTheirTies() {
        float[] l = {3, 2, 2, 1, 0};
        assertArrayEquals(new int[] {0}, kept(PLAIN.withFilters(1, 1, 1, 0), l));
        assertArrayEquals(new int[] {0, 1, 2}, kept(PLAIN.withFilters(1, 2, 1, 0), l)); // tie at the 2nd value
        assertArrayEquals(new int[] {0, 1, 2}, kept(PLAIN.withFilters(1, 3, 1, 0), l));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, kept(PLAIN.withFilters(1, 9, 1, 0), l));
    }

    @Test
    void topKEqualsSortingTheVocabularyOnLargeRowsWithTiesNanAndMinusInfinity() {
        java.util.Random r = new java.util.Random(7);
        for (int trial = 0; trial < 50; trial++) {
            float[] l = new float[2000];
            for (int i = 0; i < l.length; i++) {
                int kind = r.nextInt(40);
                // few distinct values (many ties); some NaN and -inf, which top-k never keeps nor counts
                l[i] = kind == 0 ? Float.NaN : kind == 1 ? Float.NEGATIVE_INFINITY : r.nextInt(300) / 10f;
            }
            int k = 1 + r.nextInt(trial < 40 ? 100 : 2500);
            float[] valid = new float[l.length];
            int n = 0;
            for (float x : l) {
                if (!Float.isNaN(x) && x != Float.NEGATIVE_INFINITY) {
                    valid[n++] = x;
                }
            }
            float[] sorted = java.util.Arrays.copyOf(valid, n);
            java.util.Arrays.sort(sorted);
            float kth = k >= n ? Float.NEGATIVE_INFINITY : sorted[n - k]; // the k-th largest, ties counted apart
            int[] want = java.util.stream.IntStream.range(0, l.length)
                    .filter(i -> !Float.isNaN(l[i]) && l[i] != Float.NEGATIVE_INFINITY && l[i] >= kth).toArray();
            assertArrayEquals(want, kept(PLAIN.withFilters(1, k, 1, 0), l), "trial " + trial + ", k " + k);
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingPWithTies() {
        float[] l = logs(0.2, 0.4, 0.1, 0.2, 0.1);
        assertArrayEquals(new int[] {1}, kept(PLAIN.withFilters(1, 0, 0.4, 0), l));
        assertArrayEquals(new int[] {1}, kept(PLAIN.withFilters(1, 0, 0.3, 0), l));
        // 0.4 < 0.5: the next value 0.2 is needed, and both tokens of 0.2 come with it
        assertArrayEquals(new int[] {0, 1, 3}, kept(PLAIN.withFilters(1, 0, 0.5, 0), l));
        assertArrayEquals(new int[] {0, 1, 3}, kept(PLAIN.withFilters(1, 0, 0.79, 0), l));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, kept(PLAIN.withFilters(1, 0, 0.85, 0), l));
    }

    @Test
    void minPKeepsTokensAtLeastThatFractionOfTheTop() {
        // probabilities relative to the top: 1, e^-1, e^-2, e^-2 (a tie)
        float[] l = {0, -1, -2, -2};
        assertArrayEquals(new int[] {0, 1, 2, 3}, kept(PLAIN.withFilters(1, 0, 1, Math.exp(-2)), l)); // at the bound
        assertArrayEquals(new int[] {0, 1, 2, 3}, kept(PLAIN.withFilters(1, 0, 1, 0.13), l));
        assertArrayEquals(new int[] {0, 1}, kept(PLAIN.withFilters(1, 0, 1, 0.14), l)); // both tied ones go
        assertArrayEquals(new int[] {0}, kept(PLAIN.withFilters(1, 0, 1, 0.37), l));
    }

    @Test
    void filterOrderIsTemperatureThenTopKThenTopPThenMinP() {
        // temperature before top-p: sharpening moves the nucleus
        float[] l = logs(0.5, 0.3, 0.2);
        assertArrayEquals(new int[] {0, 1}, kept(PLAIN.withFilters(1, 0, 0.6, 0), l));
        assertArrayEquals(new int[] {0}, kept(PLAIN.withFilters(0.1, 0, 0.6, 0), l));
        // top-k before top-p: top-p sees the top-2 renormalised (0.53, 0.47) and keeps one; the other order keeps two
        float[] m = logs(0.4, 0.35, 0.25);
        assertArrayEquals(new int[] {0}, kept(PLAIN.withFilters(1, 2, 0.5, 0), m));
        // top-p before min-p: top-p 0.75 keeps three, min-p 0.45 keeps them; min-p first would leave top-p two
        float[] n = logs(0.4, 0.3, 0.2, 0.1);
        assertArrayEquals(new int[] {0, 1, 2}, kept(PLAIN.withFilters(1, 0, 0.75, 0.45), n));
    }

    @Test
    void penaltiesChangeLogitsExactlyAsDefined() {
        SamplingConfig c = PLAIN.withPenalties(2.0, 3, 0.5, 0.25).withLogitBias(Map.of(3, 1.5f));
        Sampler s = new Sampler(c, 5, 16);
        for (int prompt : new int[] {4, 0, 1}) {
            s.observePrompt(prompt);
        }
        // generate token 2 twice (forced by a large bias on a one-hot row) -> window [1, 2, 2] after that
        for (int i = 0; i < 2; i++) {
            float[] force = {0, 0, 100, -100, 0};
            assertEquals(2, new Sampler(SamplingConfig.greedy(), 5, 16).sample(force.clone()));
            assertEquals(2, sampleGreedyLike(s, force));
        }
        float[] l = {2, -2, 1, 0.5f, 4};
        s.applyBiasAndPenalties(l);
        // id 0 and 4 left the 3-token window; id 1 is in it: -2 * 2; id 2 in it and generated twice:
        // 1 / 2 - (2 * 0.25 + 0.5); id 3: bias only
        assertArrayEquals(new float[] {2, -4, 0.5f - 1.0f, 2.0f, 4}, l, 1e-6f);
    }

    /** Samples with a sampler whose config is not greedy, from logits so peaked that the draw is certain. */
    private static int sampleGreedyLike(Sampler s, float[] logits) {
        return s.sample(logits.clone());
    }

    @Test
    void biasComesBeforeTheRepetitionPenalty() {
        Sampler s = new Sampler(PLAIN.withPenalties(2.0, 4, 0, 0).withLogitBias(Map.of(0, 1f)), 2, 8);
        s.observePrompt(0);
        float[] l = {1, 0};
        s.applyBiasAndPenalties(l);
        assertEquals(1.0f, l[0], 0); // (1 + 1) / 2; the other order would give 1 / 2 + 1
    }

    @Test
    void greedyTemperatureZeroAndTopKOneAllTakeTheArgmax() {
        float[] l = logs(0.1, 0.5, 0.3, 0.1);
        assertEquals(1, new Sampler(SamplingConfig.greedy(), 4, 8).sample(l.clone()));
        assertEquals(1, new Sampler(PLAIN.withFilters(1.5, 1, 1, 0), 4, 8).sample(l.clone()));
        assertEquals(1, Sampler.argmax(l));
    }

    @Test
    void sameSeedSameSamplesAndFrequenciesFollowTheDistribution() {
        float[] l = logs(0.1, 0.5, 0.3, 0.1);
        Sampler a = new Sampler(PLAIN.withSeed(42), 4, 8);
        Sampler b = new Sampler(PLAIN.withSeed(42), 4, 8);
        int[] counts = new int[4];
        for (int i = 0; i < 20_000; i++) {
            int x = a.sample(l.clone());
            assertEquals(x, b.sample(l.clone()));
            counts[x]++;
        }
        assertEquals(0.5, counts[1] / 20_000.0, 0.02);
        assertEquals(0.3, counts[2] / 20_000.0, 0.02);
    }

    @Test
    void logprobsAreTheModelsLogSoftmaxWithTheTopAlternatives() {
        float[] l = logs(0.1, 0.5, 0.3, 0.1);
        TokenLogprobs lp = Sampler.logprobs(l, 2, 3);
        assertEquals(Math.log(0.3), lp.logprob(), 1e-6);
        assertArrayEquals(new int[] {1, 2, 0}, lp.topTokens()); // tie of 0 and 3: the lower id first
        assertArrayEquals(new double[] {Math.log(0.5), Math.log(0.3), Math.log(0.1)}, lp.topLogprobs(), 1e-6);
        assertTrue(Double.isNaN(Sampler.logprobs(l, 2, -1).logprob()));
    }

    @Test
    void nanLogitsAreNeverChosenAndAllNanIsAnError() {
        float[] withNan = {Float.NaN, 1f, 2f};
        assertEquals(2, Sampler.argmax(withNan));
        assertArrayEquals(new int[] {1, 2}, kept(PLAIN, withNan));
        assertThrows(IllegalStateException.class, () -> Sampler.argmax(new float[] {Float.NaN}));
    }

    @Test
    void badSettingsAreRefusedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PLAIN.withTemperature(-1));
        assertTrue(e.getMessage().contains("-1"));
        assertThrows(IllegalArgumentException.class, () -> PLAIN.withFilters(1, 0, 0.0, 0));
        assertThrows(IllegalArgumentException.class, () -> PLAIN.withFilters(1, -3, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> PLAIN.withFilters(1, 0, 1, 1.5));
        assertThrows(IllegalArgumentException.class, () -> PLAIN.withPenalties(0, 64, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> PLAIN.withPenalties(1.1, -2, 0, 0));
        IllegalArgumentException bias = assertThrows(IllegalArgumentException.class,
                () -> new Sampler(PLAIN.withLogitBias(Map.of(7, 1f)), 4, 8));
        assertTrue(bias.getMessage().contains("7"), bias.getMessage());
    }
}
