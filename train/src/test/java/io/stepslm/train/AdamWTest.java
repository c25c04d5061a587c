package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** AdamW with both kernels (DJL's Adam kernel per tensor, and the fused _fused_adamw_ over all tensors). */
class AdamWTest {

    /** PyTorch's torch.optim.AdamW for one tensor, in plain Java doubles. */
    private static final class Reference {
        final double[] p;
        final double[] m;
        final double[] v;
        final boolean decay;

        Reference(float[] init, boolean decay) {
            p = new double[init.length];
            for (int i = 0; i < init.length; i++) {
                p[i] = init[i];
            }
            m = new double[init.length];
            v = new double[init.length];
            this.decay = decay;
        }

        void step(float[] g, int t, double lr, double b1, double b2, double eps, double wd) {
            for (int i = 0; i < p.length; i++) {
                if (decay) {
                    p[i] *= 1 - lr * wd;
                }
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.pow(b1, t));
                double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
                p[i] -= lr * mHat / denom;
            }
        }
    }

    private static float[] random(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "fused"})
    void equalsPlainJavaReferenceForSeveralSteps(String kernels) {
        Random r = new Random(42);
        Shape[] shapes = {new Shape(3, 4), new Shape(4), new Shape(5, 2)};
        double b1 = 0.9, b2 = 0.99, eps = 1e-8, wd = 0.1;
        try (NDManager manager = NDManager.newBaseManager()) {
            List<NDArray> weights = new ArrayList<>();
            List<Reference> refs = new ArrayList<>();
            for (Shape s : shapes) {
                float[] init = random(r, (int) s.size(), 0.5);
                NDArray w = manager.create(init, s);
                w.setRequiresGradient(true); // the optimizer must work on real (leaf, grad-requiring) parameters
                weights.add(w);
                refs.add(new Reference(init, s.dimension() >= 2));
            }
            AdamW opt = new AdamW(TestKernels.named(kernels), weights, b1, b2, eps, wd);
            assertTrue(opt.decays(0));
            assertFalse(opt.decays(1)); // vectors (norm weights, biases) are not decayed
            for (int t = 1; t <= 6; t++) {
                double lr = 1e-2 * t; // a varying learning rate, as under a schedule
                try (NDManager scratch = manager.newSubManager()) {
                    List<NDArray> grads = new ArrayList<>();
                    for (int i = 0; i < shapes.length; i++) {
                        float[] g = random(r, (int) shapes[i].size(), 1.0);
                        grads.add(scratch.create(g, shapes[i]));
                        refs.get(i).step(g, t, lr, b1, b2, eps, wd);
                    }
                    opt.step(grads, lr);
                }
                for (int i = 0; i < shapes.length; i++) {
                    float[] actual = weights.get(i).toFloatArray();
                    double[] expected = refs.get(i).p;
                    for (int k = 0; k < actual.length; k++) {
                        assertEquals(expected[k], actual[k], 2e-6, "step " + t + " tensor " + i + " element " + k);
                    }
                }
            }
            assertEquals(6, opt.steps());
            opt.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "fused"})
    void restoredStateContinuesIdentically(String kernels) {
        Random r = new Random(7);
        Shape shape = new Shape(4, 3);
        float[] init = random(r, 12, 1);
        float[][] grads = new float[6][];
        for (int i = 0; i < grads.length; i++) {
            grads[i] = random(r, 12, 1);
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = manager.create(init, shape);
            AdamW optA = new AdamW(TestKernels.named(kernels), List.of(a), 0.9, 0.95, 1e-8, 0.1);
            for (int t = 0; t < 6; t++) {
                try (NDManager s = manager.newSubManager()) {
                    optA.step(List.of(s.create(grads[t], shape)), 1e-2);
                }
                if (t == 2) {
                    // "checkpoint": weights + moments + step, then a fresh optimizer continues from them
                    NDArray b = manager.create(a.toFloatArray(), shape);
                    AdamW optB = new AdamW(TestKernels.named(kernels), List.of(b), 0.9, 0.95, 1e-8, 0.1);
                    NDList saved = NDList.decode(manager, optA.moments().encode());
                    optB.restore(saved, optA.steps());
                    for (int u = 3; u < 6; u++) {
                        try (NDManager s = manager.newSubManager()) {
                            optB.step(List.of(s.create(grads[u], shape)), 1e-2);
                        }
                    }
                    for (int u = 3; u < 6; u++) {
                        try (NDManager s = manager.newSubManager()) {
                            optA.step(List.of(s.create(grads[u], shape)), 1e-2);
                        }
                    }
                    assertArrayEquals(a.toFloatArray(), b.toFloatArray(), 0f);
                    return;
                }
            }
        }
    }
}
