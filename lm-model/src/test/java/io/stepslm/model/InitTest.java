package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.types.Shape;

import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The initialisation table of {@link Init}: distributions, GPT-2's scaled residual std, padding, determinism. */
class InitTest {

    @Test
    void everyTensorFollowsTheTable() {
        ModelConfig c = ModelConfig.gpt(100, 64, 4, 4, 128, 0.0, true).withStepsRecipe(); // 8 blocks, with biases
        Map<String, Shape> shapes = LanguageModel.parameterShapes(c);
        double residualStd = 0.02 / Math.sqrt(2 * 8);
        for (Map.Entry<String, Shape> e : shapes.entrySet()) {
            String name = e.getKey();
            float[] v = Init.values(name, e.getValue(), c, 42);
            if (name.endsWith(".bias")) {
                assertEquals(0.0, maxAbs(v), name);
            } else if (e.getValue().dimension() == 1) {
                assertEquals(1.0, mean(v, 0, v.length), 0.0, name);
                assertEquals(0.0, std(v, 0, v.length), 0.0, name);
            } else if (name.endsWith("proj.weight")) {
                assertEquals(residualStd, std(v, 0, v.length), 0.1 * residualStd, name);
            } else {
                int real = name.equals("wte.weight") ? 100 * 128 : v.length;
                assertEquals(0.02, std(v, 0, real), 0.002, name);
                assertEquals(0.0, mean(v, 0, real), 0.002, name);
                if (real < v.length) {
                    assertEquals(0.0, maxAbs(Arrays.copyOfRange(v, real, v.length)), "padding rows are zero");
                }
            }
        }
    }

    @Test
    void sameSeedSameWeightsOtherSeedOtherWeights() {
        ModelConfig c = ModelConfig.charTiny(65);
        Shape s = new Shape(384, 128);
        String n = "steps.0.blocks.0.attn.qkv.weight";
        assertArrayEquals(Init.values(n, s, c, 1), Init.values(n, s, c, 1));
        assertFalse(Arrays.equals(Init.values(n, s, c, 1), Init.values(n, s, c, 2)));
        assertFalse(Arrays.equals(Init.values(n, s, c, 1),
                Init.values("steps.0.blocks.1.attn.qkv.weight", s, c, 1)), "each tensor draws its own numbers");
    }

    private static double mean(float[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / (to - from);
    }

    private static double std(float[] v, int from, int to) {
        double m = mean(v, from, to);
        double s = 0;
        for (int i = from; i < to; i++) {
            s += (v[i] - m) * (v[i] - m);
        }
        return Math.sqrt(s / (to - from));
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
