package io.stepslm.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final float[] LOGITS = {(float) Math.log(0.1), (float) Math.log(0.5), (float) Math.log(0.3),
        (float) Math.log(0.1)};

    @Test
    void temperatureOneGivesTheSoftmax() {
        assertArrayEquals(new double[] {0.1, 0.5, 0.3, 0.1}, Sampler.probabilities(LOGITS, 1.0, 0, 1.0), 1e-6);
    }

    @Test
    void topKKeepsTheKMostLikelyRenormalised() {
        assertArrayEquals(new double[] {0, 0.625, 0.375, 0}, Sampler.probabilities(LOGITS, 1.0, 2, 1.0), 1e-6);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // sorted: 0.5, 0.3, 0.1, 0.1 -> 0.5 < 0.7, 0.8 >= 0.7: keep two tokens
        assertArrayEquals(new double[] {0, 0.625, 0.375, 0}, Sampler.probabilities(LOGITS, 1.0, 0, 0.7), 1e-6);
        // p below the top token's mass keeps just the top token
        assertArrayEquals(new double[] {0, 1, 0, 0}, Sampler.probabilities(LOGITS, 1.0, 0, 0.2), 1e-9);
    }

    @Test
    void lowTemperatureSharpens() {
        double[] p = Sampler.probabilities(LOGITS, 0.1, 0, 1.0);
        assertTrue(p[1] > 0.99, "p = " + p[1]);
    }

    @Test
    void greedyAndTopKOneTakeTheArgmax() {
        assertEquals(1, new Sampler(SamplingConfig.greedy(1)).sample(LOGITS));
        assertEquals(1, new Sampler(new SamplingConfig(1, 1.5, 1, 1.0, 7)).sample(LOGITS));
    }

    @Test
    void sameSeedSameSamplesAndFrequenciesFollowTheDistribution() {
        SamplingConfig config = new SamplingConfig(1, 1.0, 0, 1.0, 42);
        Sampler a = new Sampler(config);
        Sampler b = new Sampler(config);
        int[] counts = new int[4];
        for (int i = 0; i < 20_000; i++) {
            int x = a.sample(LOGITS);
            assertEquals(x, b.sample(LOGITS));
            counts[x]++;
        }
        assertEquals(0.5, counts[1] / 20_000.0, 0.02);
        assertEquals(0.3, counts[2] / 20_000.0, 0.02);
    }

    @Test
    void nanLogitsAreNeverChosenAndAllNanIsAnError() {
        float[] withNan = {Float.NaN, 1f, 2f};
        assertEquals(2, Sampler.argmax(withNan));
        assertEquals(0, Sampler.probabilities(withNan, 1.0, 0, 1.0)[0]);
        assertThrows(IllegalStateException.class, () -> Sampler.argmax(new float[] {Float.NaN}));
    }

    @Test
    void badSettingsAreRefusedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SamplingConfig(10, -1, 0, 1.0, 0));
        assertTrue(e.getMessage().contains("-1"));
        assertThrows(IllegalArgumentException.class, () -> new SamplingConfig(10, 1, 0, 0.0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingConfig(10, 1, -3, 1.0, 0));
    }
}
